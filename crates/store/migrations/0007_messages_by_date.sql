-- The window's open-email list is the newest open messages of the queue folders: with
-- this index SQLite walks a folder newest first and stops at the limit instead of
-- sorting every row (`views.rs` open_customer_messages; read_during_sync_bench).
CREATE INDEX messages_folder_date ON messages(folder_id, internal_date, id);
