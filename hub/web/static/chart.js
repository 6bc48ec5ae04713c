// Deliveries per minute as an inline SVG bar chart (no library): delivered below, failed on top.

import {el, svg} from "./dom.js";

const WIDTH = 600;
const HEIGHT = 150;
const AXIS = 1;

/** Draw the last `minutes` minutes of /api/deliveries/stats buckets into `container`. */
export function drawChart(container, buckets, minutes = 60) {
  const counts = countsByMinute(buckets);
  const lastMinute = Math.floor(Date.now() / 60000);
  const series = Array.from({length: minutes}, (_, i) => lastMinute - minutes + 1 + i)
    .map((minute) => ({minute, ...(counts.get(minute) || {delivered: 0, failed: 0})}));
  const peak = Math.max(1, ...series.map((point) => point.delivered + point.failed));
  const barWidth = WIDTH / minutes;
  const scale = (HEIGHT - AXIS) / peak;
  // The bars stretch to the card's width; the labels are HTML so that they do not stretch with them.
  container.replaceChildren(
    el("div", {class: "chart-peak"}, `peak ${peak}/min`),
    svg("svg", {viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none", class: "chart-svg"},
      ...series.map((point, i) => bar(point, i * barWidth, barWidth, scale)),
      svg("line", {x1: 0, x2: WIDTH, y1: HEIGHT - AXIS, y2: HEIGHT - AXIS, class: "axis"})),
    el("div", {class: "chart-axis"}, el("span", {}, clock(series[0].minute)), el("span", {}, clock(lastMinute))));
}

function countsByMinute(buckets) {
  const counts = new Map();
  for (const bucket of buckets) {
    counts.set(Math.floor(Date.parse(bucket.minute) / 60000), {delivered: bucket.delivered || 0, failed: bucket.failed || 0});
  }
  return counts;
}

function bar(point, x, width, scale) {
  const base = HEIGHT - AXIS;
  const delivered = point.delivered * scale;
  const failed = point.failed * scale;
  return svg("g", {},
    svg("title", {}, `${clock(point.minute)}: ${point.delivered} delivered, ${point.failed} failed`),
    svg("rect", {x, width: Math.max(width - 1, 1), y: base - delivered, height: delivered, class: "bar delivered"}),
    svg("rect", {x, width: Math.max(width - 1, 1), y: base - delivered - failed, height: failed, class: "bar failed"}));
}

const clock = (minute) => new Date(minute * 60000).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", hour12: false});
