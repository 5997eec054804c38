"""The journal's checkpoints and proofs: what an outsider checks the books with."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from ..domain.errors import DomainError, FieldError
from ..domain.signed_note import encode_base64
from ..services import checkpoints, journal_proofs
from ..services.journal_ports import CheckpointRecord
from ..services.store_runs import hour_run
from . import models as m
from .job_runs import StoreRunOut, StoreRunQuery, run_fields, walk_command
from .router import JOB, STAFF_ROLES, Call, route, staff

READERS = staff(*STAFF_ROLES, key_scope="journal:read")
SIGNERS = staff("owner", "supervisor")
DENIED = ("unauthenticated", "forbidden")
CHECKPOINT_RUN_BUDGET = 240.0  # seconds: the scheduler waits 300 s (infra/scheduler.tf)


def checkpoint_out(record: CheckpointRecord) -> m.CheckpointOut:
    return m.CheckpointOut(
        store_id=record.store_id,
        origin=record.origin,
        size=record.size,
        root=encode_base64(record.root),
        key_id=record.key_id.hex(),
        signed_at=utc(record.signed_at),
        note=record.note,
    )


def utc(moment: datetime) -> str:
    """RFC 3339 in UTC, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def hashes_out(proof: list[bytes]) -> list[str]:
    return [encode_base64(node) for node in proof]


@route(
    "GET",
    "/v1/stores/{store}/journal/checkpoints/latest",
    summary="The store's latest signed checkpoint",
    tag="journal",
    access=READERS,
    response=m.CheckpointOut,
    present=checkpoint_out,
    errors=(*DENIED, "not_checkpointed"),
)
def latest(call: Call):
    return journal_proofs.checkpoint_of(call.uow, call.params["store"])


@route(
    "GET",
    "/v1/stores/{store}/journal/checkpoints",
    summary="Every signed checkpoint of the store, oldest first",
    tag="journal",
    access=READERS,
    query=m.PageQuery,
    response=m.CheckpointPage,
    errors=(*DENIED, "validation_failed"),
)
def list_all(call: Call):
    query: m.PageQuery = call.query
    after = decode_cursor(query.cursor) if query.cursor else 0
    records, has_more = call.uow.journal.checkpoints(call.params["store"], query.limit, after)
    cursor = encode_cursor(records[-1].size) if has_more else None
    return m.CheckpointPage(data=[checkpoint_out(r) for r in records], next_cursor=cursor, has_more=has_more)


def encode_cursor(size: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": size}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        after = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["after"]
        if type(after) is int and after >= 0:
            return after
    except (ValueError, TypeError, KeyError):
        pass
    raise DomainError("validation_failed", "The cursor is not one we issued.", [FieldError("cursor", "invalid")])


@dataclass(frozen=True)
class Signed:
    record: CheckpointRecord
    http_status: int  # 201 for a new checkpoint, 200 for the latest when nothing was added


@route(
    "POST",
    "/v1/stores/{store}/journal/checkpoints",
    summary="Sign a checkpoint at the journal's head now (200 with the latest if it has not grown)",
    tag="journal",
    access=SIGNERS,
    response=m.CheckpointOut,
    present=lambda signed: checkpoint_out(signed.record),
    status=201,
    also=((200, m.CheckpointOut),),
    errors=(*DENIED, "store_not_found", "journal_empty"),
)
def sign(call: Call):
    record, created = checkpoints.sign_checkpoint(checkpoints.SignCheckpoint(call.params["store"]), call.uow)
    return Signed(record, 201 if created else 200)


@route(
    "GET",
    "/v1/stores/{store}/journal/entries/{seq}",
    summary="A journal entry and its inclusion proof in a checkpointed tree",
    tag="journal",
    access=READERS,
    query=m.EntryProofQuery,
    response=m.EntryProofOut,
    errors=(*DENIED, "validation_failed", "entry_not_found", "not_checkpointed", "checkpoint_not_found"),
)
def entry(call: Call):
    seq = call.params["seq"]
    if not seq.isdigit() or len(seq) > 18:
        raise DomainError("entry_not_found", f"No journal entry {seq}.")
    proved = journal_proofs.entry_with_proof(call.uow, call.params["store"], int(seq), call.query.tree_size)
    return m.EntryProofOut(
        entry=proved.entry, leaf_index=proved.leaf_index, tree_size=proved.tree_size, proof=hashes_out(proved.proof)
    )


@route(
    "GET",
    "/v1/stores/{store}/journal/consistency",
    summary="A consistency proof between two checkpointed tree sizes",
    tag="journal",
    access=READERS,
    query=m.ConsistencyQuery,
    response=m.ConsistencyOut,
    errors=(*DENIED, "validation_failed", "checkpoint_not_found"),
)
def consistency(call: Call):
    query: m.ConsistencyQuery = call.query
    proof = journal_proofs.consistency(call.uow, call.params["store"], query.from_size, query.to_size)
    return m.ConsistencyOut(from_size=query.from_size, to_size=query.to_size, proof=hashes_out(proof))


@route(
    "GET",
    "/v1/orders/{order}/proof",
    summary="C2SP tlog-proofs that the order's journal entries are in the signed books",
    tag="customer",
    headers=("X-Order-Token",),
    response=m.OrderProofsOut,
    errors=("order_not_found", "not_checkpointed"),
)
def order_proof(call: Call):
    proofs = journal_proofs.order_proofs(call.uow, call.params["order"], call.request.headers.get("X-Order-Token"))
    return m.OrderProofsOut(proofs=[m.OrderProofOut(seq=p.seq, type=p.type, proof=p.proof) for p in proofs])


@route(
    "GET",
    "/v1/journal/public-keys",
    summary="The keys checkpoints are signed with, current and retired",
    tag="journal",
    response=m.PublicKeysOut,
)
def public_keys(call: Call):
    keys = checkpoints.public_keys(call.uow)
    return m.PublicKeysOut(
        [
            m.PublicKeyOut(
                key_id=key["key_id"],
                vkey=key["vkey"],
                public_key=key["public_key"],
                valid_from=utc(key["valid_from"]),
                valid_to=utc(key["valid_to"]) if key["valid_to"] else None,
            )
            for key in keys
        ]
    )


class CheckpointRunOut(m.SignedCheckpointsOut, StoreRunOut):
    """The checkpoints this invocation signed, and how far the hour's run got."""


@route(
    "POST",
    "/v1/jobs/checkpoints",
    summary="Sign a checkpoint for every store whose journal grew: the hour's run, continued (scheduler, "
    "every 5 minutes)",
    tag="jobs",
    access=JOB,
    query=StoreRunQuery,
    response=CheckpointRunOut,
)
def sign_grown_job(call: Call):
    from ..services.store_jobs import sign_grown_run  # the jobs over every store: only the jobs function's

    walked = sign_grown_run(walk_command(call, hour_run, CHECKPOINT_RUN_BUDGET), call.uow)
    return CheckpointRunOut(signed=[checkpoint_out(record) for record in walked.results], **run_fields(walked))
