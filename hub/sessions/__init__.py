"""WhatsApp sessions: the manager, the engine interface, the engines and the event mapping."""
