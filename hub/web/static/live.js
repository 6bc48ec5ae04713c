// The live event stream (/ws/events): reconnects with backoff and reports its state.

import {eventsSocketUrl} from "./api.js";

/** Open the stream; onEvent(envelope) per hub event, onState("live"|"offline"). Returns a closer. */
export function connectEvents(onEvent, onState) {
  let socket = null;
  let retryDelay = 1000;
  let closed = false;

  function retryLater() {
    onState("offline");
    if (!closed) setTimeout(open, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  async function open() {
    let url;
    try {
      url = await eventsSocketUrl();  // a fresh single-use ticket for every (re)connection
    } catch {
      retryLater();
      return;
    }
    if (closed) return;
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      retryDelay = 1000;
      onState("live");
    });
    socket.addEventListener("message", (message) => {
      const envelope = JSON.parse(message.data);
      if (envelope.type !== "ping") onEvent(envelope);
    });
    socket.addEventListener("close", retryLater);
  }

  open();
  return () => {
    closed = true;
    socket?.close();
  };
}
