-- `securechat import` (src/import/): what each imported item of a source
-- became here. A row is written in the transaction that writes the item,
-- so an import run again after an interruption skips what is done and
-- writes only the rest. `kind` is room, channel, person or message.
CREATE TABLE import_map (
    source    TEXT   NOT NULL,
    kind      TEXT   NOT NULL,
    source_id TEXT   NOT NULL,
    local_id  BIGINT NOT NULL,
    PRIMARY KEY (source, kind, source_id)
);
