"""The relay: the event feed published to a message broker (NATS JetStream), in feed order.

`billy relay` reads each workspace's feed after its own cursor (a row per stream and workspace),
publishes a page of events as one pipelined batch, and moves the cursor on only once the broker has
acknowledged every message of it. A relay killed between the acknowledgement and the cursor's move
publishes that batch again when it starts; each message carries its event's id as its message id,
so the stream drops the repeats within its duplicate window. Nothing is skipped: a failed batch is
published again, from the same cursor, until the broker takes it.
"""
