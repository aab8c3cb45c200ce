"""The sync engine's statements: claiming a job, committing a page, finishing a run.

Every write a run makes after its claim is fenced on `lease = <ours> AND status =
'running'`, in the same transaction as the records it stores: a cancelled job, or one a
new worker took over after ours went silent, commits nothing more. A page's records, the
position to read next and the job's counters commit together, so a worker killed at any
instant leaves the job exactly at its last committed page.

Records are upserted with one statement per page (`unnest` of arrays), so the cost of a
page does not grow with the number of records already stored.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from backend.lib.db import pool

_encode = msgspec.json.Encoder().encode

_CLAIM = """
UPDATE integration_sync_job j
SET status = 'running', lease = $2, heartbeat_at = now(),
    started_at = coalesce(j.started_at, now()),
    cursor_before = CASE WHEN j.status = 'queued' AND j.mode <> 'backfill'
                         THEN (SELECT c.cursor FROM sync_cursor c
                               WHERE c.integration = j.integration AND c.stream = j.stream)
                         ELSE j.cursor_before END
WHERE j.id = $1
  AND (j.status = 'queued'
       OR (j.status = 'running' AND j.lease = $3)
       OR (j.status = 'running' AND (j.heartbeat_at IS NULL
                                     OR j.heartbeat_at < now() - make_interval(secs => $4))))
RETURNING j.*, (SELECT c.cursor::text FROM sync_cursor c
                WHERE c.integration = j.integration AND c.stream = j.stream) AS stored_cursor,
          (SELECT true FROM integration_sync_job o WHERE o.id = $1 AND o.status = 'queued')
              AS fresh
"""

_FENCE = """
UPDATE integration_sync_job
SET position = $3::jsonb, pages = pages + $4, records_upserted = records_upserted + $5,
    records_deleted = records_deleted + $6, attempts = attempts + $7, heartbeat_at = now()
WHERE id = $1 AND lease = $2 AND status = 'running'
RETURNING id
"""

_RECORDS = """
INSERT INTO synced_record AS r
  (id, tenant, integration, stream, external_id, data, mapped, mapping_version,
   external_updated_at, deleted, simulated, first_seen_at, updated_at, synced_at,
   last_seen_job)
SELECT gen_random_uuid(), $1, $2, $3, u.external_id, u.data::jsonb, u.mapped::jsonb,
       u.mapping_version, u.external_updated_at, u.deleted, $5, $6, $6, $6, $4
FROM unnest($7::text[], $8::text[], $9::text[], $10::int[], $11::timestamptz[], $12::bool[])
  AS u(external_id, data, mapped, mapping_version, external_updated_at, deleted)
{where}
ON CONFLICT (integration, stream, external_id) DO UPDATE
SET data = EXCLUDED.data, mapped = EXCLUDED.mapped, mapping_version = EXCLUDED.mapping_version,
    external_updated_at = EXCLUDED.external_updated_at, deleted = EXCLUDED.deleted,
    simulated = EXCLUDED.simulated, synced_at = EXCLUDED.synced_at,
    last_seen_job = EXCLUDED.last_seen_job,
    updated_at = CASE WHEN r.data IS DISTINCT FROM EXCLUDED.data OR r.deleted <> EXCLUDED.deleted
                      THEN EXCLUDED.updated_at ELSE r.updated_at END
{returning}
"""
_UPSERT = _RECORDS.format(where="", returning="")

# A page that is not the last, in one statement (one round trip, atomic on its own): the
# fence moves the job on, and the records go in only if it did.
_PAGE = f"""
WITH fence AS (
  UPDATE integration_sync_job
  SET position = $13::jsonb, pages = pages + 1,
      records_upserted = records_upserted + cardinality($7::text[]),
      records_deleted = records_deleted + $14, attempts = attempts + $15, heartbeat_at = now()
  WHERE id = $4 AND lease = $16 AND status = 'running'
  RETURNING id
), stored AS (
  {_RECORDS.format(where="WHERE EXISTS (SELECT 1 FROM fence)", returning="RETURNING 1")}
)
SELECT (SELECT count(*) FROM fence) AS fenced, (SELECT count(*) FROM stored) AS stored
"""  # noqa: S608 (built from this module's constants only)

_MARK_DELETED = """
UPDATE synced_record
SET deleted = true, updated_at = $5, synced_at = $5, last_seen_job = $4
WHERE tenant = $1 AND integration = $2 AND stream = $3 AND external_id = ANY($6::text[])
  AND NOT deleted
"""

_MARK_UNSEEN = """
UPDATE synced_record
SET deleted = true, updated_at = $5
WHERE tenant = $1 AND integration = $2 AND stream = $3 AND NOT deleted
  AND last_seen_job IS DISTINCT FROM $4
"""

_SET_CURSOR = """
INSERT INTO sync_cursor AS c (id, tenant, integration, stream, cursor, updated_at)
VALUES (gen_random_uuid(), $1, $2, $3, $4::jsonb, now())
ON CONFLICT (integration, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()
"""

_FINISH = """
UPDATE integration_sync_job
SET status = $3, error = $4, cursor_after = $5::jsonb, records_deleted = records_deleted + $6,
    attempts = attempts + $7, finished_at = now(), heartbeat_at = now(), position = NULL
WHERE id = $1 AND lease = $2 AND status = 'running'
RETURNING *
"""

_HEARTBEAT = """
UPDATE integration_sync_job SET heartbeat_at = greatest(now(), $3), attempts = attempts + $4
WHERE id = $1 AND lease = $2 AND status = 'running'
RETURNING id
"""

_FORGET_CURSOR = """
WITH job AS (
  UPDATE integration_sync_job SET position = NULL, heartbeat_at = now()
  WHERE id = $1 AND lease = $2 AND status = 'running'
  RETURNING integration, stream
)
DELETE FROM sync_cursor c USING job
WHERE c.integration = job.integration AND c.stream = job.stream
RETURNING c.id
"""

_STALE = """
SELECT id, status, heartbeat_at, created_at FROM integration_sync_job
WHERE (status = 'running' AND (heartbeat_at IS NULL
                               OR heartbeat_at < now() - make_interval(secs => $1)))
   OR (status = 'queued' AND created_at < now() - make_interval(secs => $1))
ORDER BY created_at
LIMIT $2
"""


@dataclass(slots=True)
class Rows:
    """One page's records as the upsert's column arrays (deduplicated by id, last wins)."""

    external_ids: list[str]
    data: list[str]
    mapped: list[str | None]
    mapping_versions: list[int | None]
    updated_at: list[dt.datetime | None]
    deleted: list[bool]

    @classmethod
    def empty(cls) -> Rows:
        return cls([], [], [], [], [], [])

    def add(
        self,
        external_id: str,
        data: Any,
        mapped: Any,
        mapping_version: int | None,
        updated_at: dt.datetime | None,
        deleted: bool,
    ) -> None:
        self.external_ids.append(external_id.replace("\x00", "\ufffd"))
        self.data.append(_json_text(data))
        self.mapped.append(None if mapped is None else _json_text(mapped))
        self.mapping_versions.append(mapping_version)
        self.updated_at.append(updated_at)
        self.deleted.append(deleted)

    def unique(self) -> Rows:
        """The rows with one per external id (an upsert may touch a row only once)."""
        last = {external_id: i for i, external_id in enumerate(self.external_ids)}
        if len(last) == len(self.external_ids):
            return self
        keep = sorted(last.values())
        return Rows(
            [self.external_ids[i] for i in keep],
            [self.data[i] for i in keep],
            [self.mapped[i] for i in keep],
            [self.mapping_versions[i] for i in keep],
            [self.updated_at[i] for i in keep],
            [self.deleted[i] for i in keep],
        )


@dataclass(frozen=True, slots=True)
class Claimed:
    job: dict[str, Any]
    stored_cursor: dict[str, Any] | None
    fresh: bool  # queued until this claim (not a resume)


def _json_text(value: Any) -> str:
    """JSON text PostgreSQL's jsonb accepts: it refuses U+0000 in strings, which a provider
    may send; it becomes U+FFFD instead of failing the page (and the stream) for good."""
    text = _encode(value).decode()
    return text.replace("\\u0000", "\\ufffd") if "\\u0000" in text else text


def _json(value: Any) -> str | None:
    return None if value is None else _encode(value).decode()


async def claim(
    job_id: uuid.UUID, lease: uuid.UUID, handed_over: uuid.UUID | None, stale_seconds: float
) -> Claimed | None:
    """Take the job: queued, handed over to us by its previous slice (`handed_over` is that
    slice's lease), or running under a lease whose heartbeat went silent. None: another
    worker has it, or it finished."""
    row = await pool().fetchrow(_CLAIM, job_id, lease, handed_over, float(stale_seconds))
    if row is None:
        return None
    job = dict(row)
    stored = job.pop("stored_cursor")
    fresh = bool(job.pop("fresh"))
    for key in ("cursor_before", "cursor_after", "position"):
        if isinstance(job.get(key), str):
            job[key] = msgspec.json.decode(job[key])
    return Claimed(job, msgspec.json.decode(stored) if stored else None, fresh)


@dataclass(frozen=True, slots=True)
class PageWrite:
    """What one page commits. `finish` (the last page) carries the run's end: the status,
    the cursor to store (None keeps the stored one), whether to mark unseen records
    deleted."""

    rows: Rows
    deleted_ids: list[str]
    position: dict[str, Any] | None
    attempts: int
    finish: bool = False
    cursor: dict[str, Any] | None = None
    move_cursor: bool = False
    mark_unseen: bool = False


@dataclass(frozen=True, slots=True)
class Committed:
    upserted: int
    deleted: int
    job: dict[str, Any] | None  # the finished job when the write finished it


async def commit_page(
    job: dict[str, Any], lease: uuid.UUID, write: PageWrite, simulated: bool
) -> Committed | None:
    """Store one page and move the job on, in one transaction fenced on the lease; None
    (nothing stored) when the job was cancelled or taken over."""
    tenant, integration, stream, job_id = (
        job["tenant"],
        job["integration"],
        job["stream"],
        job["id"],
    )
    rows = write.rows.unique()
    now = dt.datetime.now(dt.UTC)
    # The records' columns, as both _PAGE and _UPSERT take them first.
    upsert_args = (
        tenant,
        integration,
        stream,
        job_id,
        simulated,
        now,
        rows.external_ids,
        rows.data,
        rows.mapped,
        rows.mapping_versions,
        rows.updated_at,
        rows.deleted,
    )
    if not write.finish and not write.deleted_ids:
        row = await pool().fetchrow(
            _PAGE,
            *upsert_args,
            _json(write.position),
            sum(rows.deleted),
            write.attempts,
            lease,
        )
        if row is None or not row["fenced"]:
            return None
        return Committed(len(rows.external_ids), sum(rows.deleted), None)
    async with pool().acquire() as conn, conn.transaction():
        # The fence first: it locks the job row, so a cancel either commits before us (and
        # we stop here) or waits for this page.
        fenced = await conn.fetchval(
            _FENCE,
            job_id,
            lease,
            _json(write.position),
            1,
            len(rows.external_ids),
            0,
            write.attempts,
        )
        if fenced is None:
            return None
        if rows.external_ids:
            await conn.execute(_UPSERT, *upsert_args)
        deleted = sum(rows.deleted)
        if write.deleted_ids:
            deleted += _count(
                await conn.execute(
                    _MARK_DELETED, tenant, integration, stream, job_id, now, write.deleted_ids
                )
            )
        if not write.finish:
            if deleted:
                await conn.execute(
                    "UPDATE integration_sync_job SET records_deleted = records_deleted + $2 "
                    "WHERE id = $1",
                    job_id,
                    deleted,
                )
            return Committed(len(rows.external_ids), deleted, None)
        if write.mark_unseen:
            deleted += _count(
                await conn.execute(_MARK_UNSEEN, tenant, integration, stream, job_id, now)
            )
        if write.move_cursor and write.cursor is not None:
            await conn.execute(_SET_CURSOR, tenant, integration, stream, _json(write.cursor))
        finished = await conn.fetchrow(
            _FINISH,
            job_id,
            lease,
            "succeeded",
            "",
            _json(write.cursor if write.move_cursor else None),
            deleted,
            0,
        )
        return Committed(len(rows.external_ids), deleted, dict(finished) if finished else None)


def _count(status: str) -> int:
    """Rows an UPDATE touched, from asyncpg's command tag (`UPDATE 3`)."""
    return int(status.rsplit(" ", 1)[-1])


async def fail(
    job_id: uuid.UUID, lease: uuid.UUID, status: str, error: str, attempts: int
) -> dict[str, Any] | None:
    """End the run without success (failed); None when it was cancelled or taken over."""
    row = await pool().fetchrow(_FINISH, job_id, lease, status, error[:2000], None, 0, attempts)
    return dict(row) if row is not None else None


async def heartbeat(
    job_id: uuid.UUID, lease: uuid.UUID, until: dt.datetime | None = None, attempts: int = 0
) -> bool:
    """Say the run is alive (until `until` when it is about to wait that long elsewhere,
    adding the `attempts` made meanwhile); False when the job was cancelled or taken
    over."""
    at = until or dt.datetime.now(dt.UTC)
    return await pool().fetchval(_HEARTBEAT, job_id, lease, at, attempts) is not None


async def forget_cursor(job_id: uuid.UUID, lease: uuid.UUID) -> bool:
    """The provider refused the stored cursor: drop it and restart the run from its first
    page (a full read), fenced like a page. False when the job is no longer ours."""
    async with pool().acquire() as conn, conn.transaction():
        owned = await conn.fetchval(
            "SELECT 1 FROM integration_sync_job WHERE id = $1 AND lease = $2 "
            "AND status = 'running' FOR UPDATE",
            job_id,
            lease,
        )
        if owned is None:
            return False
        await conn.fetch(_FORGET_CURSOR, job_id, lease)
        return True


async def stale_jobs(stale_seconds: float, limit: int = 500) -> list[asyncpg.Record]:
    """Running jobs whose worker went silent, and queued jobs nobody took (a lost enqueue)."""
    return await pool().fetch(_STALE, float(stale_seconds), limit)
