-- The journal tables for Microsoft SQL Server (pekko-persistence-jdbc's layout).
-- Shipped for production use; not exercised by the tests on our build machine.
-- The script runs as one transaction; nodes that start at once take turns on this lock.
EXEC sp_getapplock @Resource = N'mta journal schema', @LockMode = N'Exclusive', @LockOwner = N'Transaction';
IF OBJECT_ID(N'event_journal', N'U') IS NULL
CREATE TABLE event_journal (
  "ordering" BIGINT IDENTITY(1,1) NOT NULL,
  "deleted" BIT DEFAULT 0 NOT NULL,
  "persistence_id" NVARCHAR(255) NOT NULL,
  "sequence_number" NUMERIC(10,0) NOT NULL,
  "writer" NVARCHAR(255) NOT NULL,
  "write_timestamp" BIGINT NOT NULL,
  "adapter_manifest" NVARCHAR(MAX) NOT NULL DEFAULT '',
  "event_payload" VARBINARY(MAX) NOT NULL,
  "event_ser_id" INTEGER NOT NULL,
  "event_ser_manifest" NVARCHAR(MAX) NOT NULL DEFAULT '',
  "meta_payload" VARBINARY(MAX),
  "meta_ser_id" INTEGER,
  "meta_ser_manifest" NVARCHAR(MAX),
  PRIMARY KEY ("persistence_id", "sequence_number")
);
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'event_journal_ordering_idx')
CREATE UNIQUE INDEX event_journal_ordering_idx ON event_journal("ordering");
IF OBJECT_ID(N'event_tag', N'U') IS NULL
CREATE TABLE event_tag (
  "event_id" BIGINT NOT NULL,
  "tag" NVARCHAR(255) NOT NULL,
  PRIMARY KEY ("event_id", "tag"),
  CONSTRAINT fk_event_journal FOREIGN KEY ("event_id") REFERENCES event_journal("ordering") ON DELETE CASCADE
);
-- The queue run finds due and finished messages by their tags (QueueDirectory).
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = 'event_tag_tag_idx')
CREATE INDEX event_tag_tag_idx ON event_tag("tag");
IF OBJECT_ID(N'snapshot', N'U') IS NULL
CREATE TABLE snapshot (
  "persistence_id" NVARCHAR(255) NOT NULL,
  "sequence_number" NUMERIC(10,0) NOT NULL,
  "created" BIGINT NOT NULL,
  "snapshot_ser_id" INTEGER NOT NULL,
  "snapshot_ser_manifest" NVARCHAR(255) NOT NULL,
  "snapshot_payload" VARBINARY(MAX) NOT NULL,
  "meta_ser_id" INTEGER,
  "meta_ser_manifest" NVARCHAR(255),
  "meta_payload" VARBINARY(MAX),
  PRIMARY KEY ("persistence_id", "sequence_number")
);
