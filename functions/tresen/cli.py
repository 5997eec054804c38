"""The `tresen` command: the local stack, the scheduled jobs and the operator tools (`tresen --help`)."""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

from .config import DEV_SINK_PORT, ConfigError

ROOT = Path(__file__).resolve().parents[2]
BLOCK_MIN, BLOCK_MAX = 2, 10_000  # as the API accepts them
CLI_ACTOR = {"type": "system", "job": "cli"}
# `web-config`: what the pages may be pointed at. Strict, so the file cannot carry script even
# before its values are JSON-encoded; a trailing slash would double the pages' "/v1/…" joins.
API_URL = re.compile(r"https://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*")
FIREBASE_API_KEY = re.compile(r"[A-Za-z0-9_-]{1,200}")
WEB_CONFIG = """\
// Where the pages find the API: written by `tresen web-config` from the deployed functions' URLs.
// `git checkout web/config.js` brings back the dev defaults ("" = the same origin, as `tresen dev` serves).
window.TRESEN_CONFIG = {{
  customerApi: {customer},
  staffApi: {staff},
  exportsApi: {exports},
  firebase: {firebase},
}};
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tresen", description="Tresen order-and-pay backend")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="start emulators, seed the demo store and serve the API")
    commands.add_parser("seed", help="seed the demo store (idempotent)")
    store = commands.add_parser("store", help="write a merchant's store and menu from a JSON file (idempotent)")
    store.add_argument("file", help='{"store": {"id": …, "name": …, …}, "products": [{"id": …, …}]}')
    sweep = commands.add_parser(
        "sweep", help="archive journal entries whose archive write failed; resume running gift-card blocks"
    )
    sweep.add_argument("--older-than", type=float, default=30.0, help="seconds (default 30)")
    checkpoint = commands.add_parser(
        "checkpoint", help="sign a checkpoint of each journal that grew since its latest (the hourly job)"
    )
    signed = checkpoint.add_mutually_exclusive_group(required=True)
    signed.add_argument("--store", help="sign this store's journal at its head")
    signed.add_argument("--all", action="store_true", help="every store whose journal grew")
    close = commands.add_parser("close", help="close a store's day (Z-report), or every store due (nightly job)")
    closed = close.add_mutually_exclusive_group(required=True)
    closed.add_argument("--store", help="close this store now")
    closed.add_argument("--due", action="store_true", help="every store nobody closed by 05:00 store time")
    verify = commands.add_parser(
        "verify",
        help="check the journal (chain, checkpoint roots and signatures) in Firestore against the archive, "
        "or offline in a copy of the archive",
    )
    which = verify.add_mutually_exclusive_group()
    which.add_argument("--store")
    which.add_argument("--all", action="store_true", help="every store (the default with --archive)")
    verify.add_argument("--archive", metavar="DIR", help="offline: a copy of the archive bucket's objects")
    verify.add_argument(
        "--keys",
        metavar="FILE",
        help="the public keys to trust: GET /v1/journal/public-keys's JSON, or one verifier key per line "
        "(needed with --archive; default: the keys Tresen lists)",
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    recover = commands.add_parser(
        "recover", help="bring back from the archive the journal entries Firestore lost; list what to resolve"
    )
    recover.add_argument("--store", required=True)
    commands.add_parser(
        "expire", help="cancel unpaid online orders past their window; release old gift-card holds; expire cards"
    )
    commands.add_parser("mail", help="send every e-mail due in the outbox (the job every minute)")
    commands.add_parser("tse", help="sign the sales taken on site the TSE could not sign yet (the job every minute)")
    licence = commands.add_parser(
        "licence-invoices", help="issue last month's licence invoices once and charge saved cards (the daily job)"
    )
    licence.add_argument("--on", help="the day of the run, YYYY-MM-DD (default today, UTC)")
    token = commands.add_parser("token", help="print an unsigned staff ID token for dev mode")
    token.add_argument("--store", default="demo")
    token.add_argument("--role", default="owner", choices=("owner", "supervisor", "staff", "finance", "driver"))
    token.add_argument("--uid", default="dev-user")
    block = commands.add_parser(
        "giftcard-block", help="activate a block of gift cards in the foreground, or resume running blocks"
    )
    block.add_argument("--store")
    block.add_argument("--amount", type=int, help="the value of each card, in cents")
    block.add_argument("--count", type=int, help=f"how many cards ({BLOCK_MIN}-{BLOCK_MAX})")
    block.add_argument("--resume", action="store_true", help="resume every running block activation instead")
    webhooks = commands.add_parser("webhooks", help="list provider webhook events parked for an operator")
    webhooks.add_argument(
        "--unprocessable",
        action="store_true",
        required=True,
        help="the correctly signed events that can never be processed, newest first",
    )
    webhooks.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    commands.add_parser(
        "webhooks-deliver",
        help="fan out every store's new events to its webhook endpoints and send every delivery due (the job "
        "every minute)",
    )
    web = commands.add_parser(
        "web-config", help="point the web pages at the deployed functions: write web/config.js for Firebase Hosting"
    )
    web.add_argument("--customer-url", required=True, help="the customer_api function's URL (the ordering page)")
    web.add_argument("--staff-url", required=True, help="the staff_api function's URL (the staff board, public keys)")
    web.add_argument("--exports-url", required=True, help="the exports function's URL (the staff board's downloads)")
    web.add_argument("--firebase-api-key", required=True, help="the Firebase project's Web API key (staff sign-in)")
    web.add_argument(
        "--output", default=str(ROOT / "web" / "config.js"), help="default: this repository's web/config.js"
    )
    schema = commands.add_parser(
        "journal-schema", help="write docs/journal.md and the JSON Schema of each journal event type and version"
    )
    schema.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("stripe").setLevel(logging.WARNING)  # it logs every request at INFO
    try:
        return {
            "dev": run_dev,
            "seed": run_seed,
            "store": run_store,
            "sweep": run_sweep,
            "checkpoint": run_checkpoint,
            "close": run_close,
            "verify": run_verify,
            "recover": run_recover,
            "token": run_token,
            "expire": run_expire,
            "mail": run_mail,
            "tse": run_tse,
            "licence-invoices": run_licence_invoices,
            "giftcard-block": run_giftcard_block,
            "webhooks": run_webhooks,
            "webhooks-deliver": run_webhooks_deliver,
            "web-config": run_web_config,
            "journal-schema": run_journal_schema,
        }[args.command](args)
    except ConfigError as error:
        print(f"tresen: {error}", file=sys.stderr)
        return 2


def run_store(args) -> int:
    import json

    from .adapters.backend import backend
    from .adapters.store_file import store_from_file
    from .services.seed import SeedStore, seed_store

    try:
        store, products = store_from_file(json.loads(Path(args.file).read_text()))
    except (OSError, ValueError) as error:
        print(f"tresen: {args.file}: {error}", file=sys.stderr)
        return 2
    seed_store(SeedStore(store, products), backend())
    print(f"store {store.id}: {len(products)} products written")
    return 0


def run_seed(args) -> int:
    from .adapters.backend import backend
    from .config import settings
    from .services.seed import demo_seed, seed_store

    seed_store(demo_seed(with_stripe=bool(settings().stripe_api_key)), backend())
    print("seeded store demo")
    return 0


def run_sweep(args) -> int:
    from .adapters.backend import backend
    from .services.archive_sweep import SweepArchive, sweep_archive
    from .services.card_blocks import ResumeBlocks, resume_blocks

    swept = sweep_archive(SweepArchive(timedelta(seconds=args.older_than)), backend())
    print(f"archived {swept.archived} entries, {swept.failing} still failing", flush=True)
    print(f"resumed {resume_blocks(ResumeBlocks(), backend())} gift-card block activations")
    backend().archive.drain()
    return 1 if swept.failing else 0


def run_giftcard_block(args) -> int:
    from .adapters.backend import backend
    from .domain.card_blocks import ChunkDone
    from .domain.errors import DomainError
    from .services.card_blocks import ResumeBlocks, StartBlock, block_status, resume_blocks, run_block, start_block

    given = [name for name in ("store", "amount", "count") if getattr(args, name) is not None]
    if args.resume and given:
        return _usage("giftcard-block --resume takes no --" + ", --".join(given))
    if not args.resume and len(given) < 3:
        return _usage("giftcard-block needs --store, --amount and --count (or --resume)")
    if not args.resume and not BLOCK_MIN <= args.count <= BLOCK_MAX:
        return _usage(f"--count must be {BLOCK_MIN}-{BLOCK_MAX}")
    logging.getLogger("tresen.services.card_blocks").setLevel(logging.WARNING)  # the progress lines say it
    seen: list[str] = []

    def progress(activation_id: str, index: int, chunks: int, chunk: ChunkDone) -> None:
        if activation_id not in seen:
            seen.append(activation_id)
            print(f"activation {activation_id}", flush=True)
        failed = f", {chunk.failed} failed" if chunk.failed else ""
        print(f"chunk {index + 1}/{chunks}: {chunk.activated} activated{failed}", flush=True)

    try:
        if args.resume:
            resumed = resume_blocks(ResumeBlocks(progress), backend())
            print(f"resumed {resumed} block activations")
        else:
            started = start_block(StartBlock(args.store, args.amount, args.count, CLI_ACTOR), backend())
            run_block(started, backend(), on_chunk=progress)
            seen += [] if started in seen else [started]
    except DomainError as error:
        print(f"tresen: {error.detail}" + "".join(f" ({e.field} {e.message})" for e in error.errors), file=sys.stderr)
        return 2
    finally:
        backend().archive.drain()
    for activation_id in seen:
        status = block_status(backend(), activation_id, lambda store_id: None)
        print(
            f"activation {activation_id} {status.status}: {status.activated} of {status.total} cards activated, "
            f"{status.failed} failed"
        )
    return 0


def _usage(message: str) -> int:
    print(f"tresen: {message}", file=sys.stderr)
    return 2


def run_recover(args) -> int:
    from .adapters.backend import backend
    from .services.recover import RecoverJournal, RecoveryRefused, recover_journal

    try:
        recovery = recover_journal(RecoverJournal(args.store), backend())
    except RecoveryRefused as refused:
        print(f"tresen: {args.store}: nothing restored: {refused}", file=sys.stderr)
        return 1
    if not recovery.restored:
        print(f"{args.store}: Firestore holds every archived entry; nothing to restore")
        return 0
    first, last = recovery.restored[0], recovery.restored[-1]
    print(f"{args.store}: restored {len(recovery.restored)} journal entries (seq {first}-{last}) from the archive")
    if recovery.invoices_claimed:
        print(f"{args.store}: invoice numbers claimed again: {', '.join(recovery.invoices_claimed)}")
    for line in recovery.to_resolve:
        print(f"{args.store}: to resolve: {line}")
    return 0


def run_checkpoint(args) -> int:
    from .adapters.backend import backend
    from .domain.errors import DomainError
    from .services.checkpoints import SignCheckpoint, SignGrownCheckpoints, sign_checkpoint, sign_grown

    if args.all:
        records = sign_grown(SignGrownCheckpoints(), backend())
        for record in records:
            print(f"{record.store_id}: signed checkpoint at size {record.size}")
        print(f"signed {len(records)} checkpoints")
    else:
        try:
            record, created = sign_checkpoint(SignCheckpoint(args.store), backend())
        except DomainError as refused:
            print(f"tresen: {args.store}: {refused.detail}", file=sys.stderr)
            return 1
        done = "signed checkpoint" if created else "unchanged since the checkpoint"
        print(f"{args.store}: {done} at size {record.size}")
    backend().archive.drain()
    return 0


def run_close(args) -> int:
    from .adapters.backend import backend
    from .domain.errors import DomainError
    from .services.closings import NIGHTLY_ACTOR, CloseDue, CloseStore, close_due, close_store

    try:
        done = (
            close_due(CloseDue(), backend())
            if args.due
            else [close_store(CloseStore(args.store, {"type": "cli"}), backend())]
        )
    except DomainError as refused:
        print(f"tresen: {args.store}: {refused.detail}", file=sys.stderr)
        return 1
    for closing in done:
        by = "nightly" if closing.closed_by == NIGHTLY_ACTOR else "now"
        print(
            f"{closing.store_id}: closed {by}: Z {closing.z_number}, business day {closing.business_day}, "
            f"seq {closing.first_seq}-{closing.last_seq}, sales {closing.sales.gross} cents"
        )
    if args.due:
        print(f"closed {len(done)} stores")
    backend().archive.drain()
    return 0


def run_verify(args) -> int:
    import json

    from .services.journal_audit import Progress
    from .services.journal_keys import KeysError, read_keys

    if args.archive and not args.keys:
        return _usage("verify --archive needs --keys FILE: the public keys to trust")
    if not args.archive and not (args.store or args.all):
        return _usage("verify needs --store ID or --all")
    try:
        keys = read_keys(Path(args.keys).read_text()) if args.keys else None
    except (OSError, UnicodeError, KeysError) as error:
        return _usage(f"{args.keys}: {error}")
    progress = Progress(lambda line: print(line, file=sys.stderr, flush=True))
    if args.archive:
        from .adapters.archive_directory import ArchiveDirectory
        from .services.verify import verify_archive_store

        if not Path(args.archive).is_dir():
            return _usage(f"{args.archive}: not a directory")
        directory = ArchiveDirectory(args.archive)
        stores = [args.store] if args.store else directory.store_ids()
        if not stores:
            print(f"tresen: {args.archive}: holds no store's journal (journal/STORE/…)", file=sys.stderr)
            return 1
        verdicts = (verify_archive_store(directory, store_id, keys, progress) for store_id in stores)
    else:
        from .adapters.backend import backend
        from .services.verify import VerifyJournals, verify_journals

        command = VerifyJournals(None if args.all else (args.store,), None if keys is None else tuple(keys))
        try:
            verdicts = verify_journals(command, backend(), progress)
        except KeysError as error:
            print(f"tresen: the registered public keys: {error}", file=sys.stderr)
            return 2
    results = []
    for verdict in verdicts:
        results.append(verdict)
        if not args.json:
            print(verdict.summary(), flush=True)
    if args.json:
        ok = all(verdict.ok for verdict in results)
        print(json.dumps({"ok": ok, "stores": [verdict.as_json() for verdict in results]}, indent=2))
    return 0 if all(verdict.ok for verdict in results) else 1


def run_expire(args) -> int:
    from .adapters.backend import backend
    from .services.card_expiry import ExpireCards, expire_giftcards
    from .services.card_present import expire_unpaid_orders

    print(f"expired {expire_unpaid_orders(backend())} orders")
    cards = expire_giftcards(ExpireCards(), backend())
    print(f"released {cards['holds_released']} gift-card holds past 7 days, expired {cards['cards_expired']} cards")
    backend().archive.drain()
    return 0


def run_tse(args) -> int:
    from .adapters.backend import backend
    from .services.tse import finish_unsigned_sales

    done = finish_unsigned_sales(backend())
    print(f"signed {done['signed']} sales; {done['failed']} still wait for the TSE")
    backend().archive.drain()
    return 1 if done["failed"] else 0


def run_mail(args) -> int:
    from .adapters.backend import backend
    from .services.mail import deliver_all_due_mail

    delivery = deliver_all_due_mail(backend())
    print(
        f"mail: {delivery.sent} sent, {delivery.retrying} to retry, {delivery.failed} failed, "
        f"{delivery.taken} taken by another deliverer"
    )
    return 1 if delivery.failed else 0


def run_licence_invoices(args) -> int:
    from datetime import date

    from .adapters.backend import backend
    from .http.billing_routes import platform_issuer, portal_url
    from .http.job_runs import LONGEST_BUDGET
    from .services.licence_invoicing import RunLicenceBilling, run_licence_billing
    from .services.store_runs import WalkStores

    try:
        on = date.fromisoformat(args.on) if args.on else backend().now().date()
    except ValueError:
        return _usage(f"--on {args.on!r}: not a date (YYYY-MM-DD)")
    command = RunLicenceBilling(on, platform_issuer(), portal_url())
    issued, paid, failed, errors = [], [], [], []
    # the day's run to its end, call by call as the scheduler's: one cut off holds it only for its budget
    while True:
        run = run_licence_billing(command, backend(), WalkStores(on.isoformat(), budget=LONGEST_BUDGET))
        issued, paid, failed, errors = issued + run.issued, paid + run.paid, failed + run.failed, errors + run.errors
        if run.walked.done or run.walked.busy:
            break
    state = "done" if run.walked.done else "held by another invocation"
    print(
        f"licence invoices for {run.period}: {len(issued)} issued, {len(paid)} paid by saved card, "
        f"{len(failed)} charges declined; the day's run {state}"
    )
    for number in issued:
        print(f"  issued {number}")
    for problem in errors:
        print(f"  not finished: {problem}", file=sys.stderr)
    return 1 if errors else 0


def run_webhooks(args) -> int:
    from .adapters.backend import backend
    from .domain.journal import rfc3339
    from .services.webhooks import unprocessable_events

    parked = unprocessable_events(backend(), args.limit)
    for event in parked:
        # the type and reason come from the provider's body: escaped, so each event stays one line
        kind, reason = (text.encode("unicode_escape").decode() for text in (event.type or "-", event.reason))
        print(f"{rfc3339(event.received_at)}  {event.provider}  {event.event_id}  {kind}  {event.size} bytes  {reason}")
    if not parked:
        print("no unprocessable webhook events")
    return 0


def run_webhooks_deliver(args) -> int:
    from .adapters.backend import backend
    from .http import webhook_objects  # noqa: F401  (how an event shows its object: as the API does)
    from .services.store_runs import WalkStores
    from .services.webhook_dispatch import deliver_webhooks

    now = backend().now()
    # a run of its own, to its end: every store with an endpoint fanned out now, whatever the hour's did
    run = deliver_webhooks(backend(), WalkStores(f"cli-{now:%Y-%m-%dT%H:%M:%S.%f}", budget=24 * 3600.0))
    print(
        f"webhooks: {run.created} deliveries fanned out, {run.succeeded} succeeded, {run.retrying} to retry, "
        f"{run.failed} failed, {run.taken} taken by another sender"
    )
    backend().archive.drain()  # an endpoint disabled is journaled
    return 0


def run_web_config(args) -> int:
    import json

    urls = {"--customer-url": args.customer_url, "--staff-url": args.staff_url, "--exports-url": args.exports_url}
    for flag, url in urls.items():
        if not API_URL.fullmatch(url):
            return _usage(f"{flag} must be an https URL without a trailing slash, not {url!r}")
    if not FIREBASE_API_KEY.fullmatch(args.firebase_api_key):
        return _usage("--firebase-api-key must be the Firebase project's Web API key (letters, digits, - and _)")
    text = WEB_CONFIG.format(
        customer=json.dumps(args.customer_url),
        staff=json.dumps(args.staff_url),
        exports=json.dumps(args.exports_url),
        firebase=json.dumps({"apiKey": args.firebase_api_key}),
    )
    try:
        Path(args.output).write_text(text)
    except OSError as error:
        return _usage(f"{args.output}: {error}")
    print(f"wrote {args.output}")
    return 0


def run_token(args) -> int:
    from .adapters.identity import unsigned_dev_token

    print(unsigned_dev_token(uid=args.uid, stores={args.store: args.role}))
    return 0


def run_dev(args) -> int:
    from .devstack import LocalStack, StackError, Stopping, claim_port, refuse_busy_port, stop_on_signals

    os.environ.setdefault("TRESEN_ENV", "dev")
    port = int(os.environ.setdefault("TRESEN_PORT", "8080"))
    data_dir = os.environ.get("TRESEN_DATA_DIR")
    stack = LocalStack(
        firestore_port=int(os.environ.get("FIRESTORE_PORT", "8181")),
        storage_port=int(os.environ.get("STORAGE_PORT", "4443")),
        rules=ROOT / "firestore.rules",
        project=os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-tresen"),
        data_dir=Path(data_dir) if data_dir else None,
    )
    stop_on_signals(stack)
    _die_with_parent()
    server = stripe = paypal = fiskaly = sink = listener = None
    try:
        listener = claim_port(port, "API")  # held from now on: the stand-ins ask for free ports too
        if os.environ.get("SMTP_SINK_PORT"):
            refuse_busy_port(int(os.environ["SMTP_SINK_PORT"]), "SMTP sink")
        stack.start()
        from .adapters.archive import ensure_bucket
        from .adapters.backend import backend
        from .config import settings
        from .services.seed import demo_seed, seed_store
        from .webserver import serve, wait_ready

        stripe = _stripe_stand_in(port)
        paypal = _paypal_stand_in(port)
        fiskaly = _fiskaly_stand_in()
        sink = _smtp_sink()
        settings()
        ensure_bucket()
        seed_store(demo_seed(with_stripe=bool(settings().stripe_api_key)), backend())
        server = serve(port, listener)
        wait_ready(port)
        if settings().stripe_api_key:
            _connect_demo(stripe[0] if stripe else None)
        print(f"tresen ready: http://127.0.0.1:{port}", flush=True)
        pages = f"http://127.0.0.1:{port}"
        print(f"  ordering page: {pages}/?store=demo   staff board: {pages}/staff", flush=True)
        while True:  # in slices: a signal handler runs only when this thread wakes (see stop_on_signals)
            time.sleep(0.5)
    except StackError as error:
        print(f"tresen: {error}", file=sys.stderr)
        return 1
    except Stopping:
        print("tresen: stopping", flush=True)
    finally:
        if listener:
            listener.close()  # (the server listens on a socket of its own, duplicated from it)
        if server:
            server.shutdown()

            backend().archive.drain()
        if sink:
            sink.stop()
        if stripe:
            stripe[1].shutdown()
        if paypal:
            paypal.shutdown()
        if fiskaly:
            fiskaly.shutdown()
        stack.stop()
    return 0


def _stripe_stand_in(port: int):
    """With a Stripe test key and no STRIPE_API_BASE, Stripe is played by the local stand-in (it
    cannot be reached from here): (stand-in, its server), or None."""
    if not os.environ.get("STRIPE_API_KEY") or os.environ.get("STRIPE_API_BASE"):
        return None
    from .standins.stripe_api import StripeStandIn, start

    stand_in = StripeStandIn(
        f"http://127.0.0.1:{port}/v1/webhooks/stripe",
        os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_stripe_dev"),
        os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_stripe_connect_dev"),
    )
    server, url = start(stand_in, int(os.environ.get("STRIPE_STANDIN_PORT", "0")))
    os.environ["STRIPE_API_BASE"] = url
    print(f"stripe stand-in: {url} (STRIPE_API_BASE)", flush=True)
    return stand_in, server


def _paypal_stand_in(port: int):
    """Without PAYPAL_API_BASE, PayPal (licence invoices paid in the portal) is played by the local
    stand-in: its server, or None."""
    if os.environ.get("PAYPAL_API_BASE"):
        return None
    from .standins.paypal_api import PayPalStandIn, start

    stand_in = PayPalStandIn(
        f"http://127.0.0.1:{port}/v1/webhooks/paypal",
        os.environ.get("PAYPAL_WEBHOOK_ID", "WH-TRESEN-DEV"),
        os.environ.get("PAYPAL_CLIENT_ID", "sb-tresen-dev"),
        os.environ.get("PAYPAL_CLIENT_SECRET", "sb-secret-dev"),
    )
    server, url = start(stand_in, int(os.environ.get("PAYPAL_STANDIN_PORT", "0")))
    os.environ["PAYPAL_API_BASE"] = url
    print(f"paypal stand-in: {url} (PAYPAL_API_BASE)", flush=True)
    return server


def _fiskaly_stand_in():
    """Without FISKALY_API_BASE, fiskaly SIGN DE (the TSE that signs the sales taken on site) is played
    by the local stand-in, which signs with a key of its own: its server, or None."""
    if os.environ.get("FISKALY_API_BASE"):
        return None
    from .standins.fiskaly_api import FiskalyStandIn, start

    stand_in = FiskalyStandIn(
        os.environ.setdefault("FISKALY_API_KEY", "fiskaly-key-dev"),
        os.environ.setdefault("FISKALY_API_SECRET", "fiskaly-secret-dev"),
    )
    server, url = start(stand_in, int(os.environ.get("FISKALY_STANDIN_PORT", "0")))
    os.environ["FISKALY_API_BASE"] = url
    print(f"fiskaly stand-in: {url} (FISKALY_API_BASE)", flush=True)
    return server


def _smtp_sink():
    """Every e-mail of dev mode goes to a local sink that keeps it for `GET /v1/dev/mail`: on
    SMTP_SINK_PORT, or 2525 (another free port if a second stack holds that one); SMTP_URL points at
    it unless set."""
    from .adapters.backend import backend
    from .standins.smtp_sink import SmtpSink

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection at INFO

    def keep(message) -> None:
        backend().dev_mail.keep(message)

    given = os.environ.get("SMTP_SINK_PORT")
    sink = SmtpSink(keep, int(given or DEV_SINK_PORT))
    try:
        port = sink.start()
    except OSError:
        if given:
            raise
        sink = SmtpSink(keep, 0)
        port = sink.start()
    os.environ.setdefault("SMTP_URL", f"smtp://127.0.0.1:{port}")
    print(f"smtp sink: smtp://127.0.0.1:{port} (GET /v1/dev/mail lists what it received)", flush=True)
    return sink


def _connect_demo(stand_in) -> None:
    """The demo store's connected account: made (once) and, on our own stand-in, onboarded as its
    owner would click through it; on another Stripe, as far as that one says it is."""
    import urllib.request

    from .adapters.backend import backend
    from .config import settings
    from .services.stripe_connect import StartOnboarding, start_onboarding, stripe_status

    if not settings().stripe_connect:
        return
    staff = f"{settings().order_page_url}staff?store=demo"
    link = start_onboarding(StartOnboarding("demo", staff, staff, {"type": "cli"}), backend())
    if stand_in is not None:
        request = urllib.request.Request(link.url, data=b"", method="POST", headers={"Accept": "application/json"})
        urllib.request.urlopen(request, timeout=10).close()
        stand_in.wait_delivered()
    account = stripe_status(backend(), "demo")
    ready = "takes payments" if account and account.ready else "not ready: onboard it on the staff board"
    print(f"  stripe: demo store on {account.account_id if account else '?'} ({ready})", flush=True)


def _die_with_parent() -> None:
    """If `make` (our parent) is killed, we get SIGTERM and clean up instead of lingering."""
    from .devstack import parent_death_signal

    if arm := parent_death_signal(signal.SIGTERM):
        arm()


def run_journal_schema(args) -> int:
    from . import journal_docs

    if args.check:
        stale = journal_docs.differences()
        for name in journal_docs.relative(stale):
            print(f"tresen: {name} differs from the declared events: run `tresen journal-schema`", file=sys.stderr)
        return 1 if stale else 0
    for name in journal_docs.relative(journal_docs.write()):
        print(f"wrote {name}")
    return 0
