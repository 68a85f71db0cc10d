-- A person's own messages in id order (`account/`: "Export my data"),
-- without sorting all of them for every page.
CREATE INDEX messages_sender ON messages (sender_id, id);
