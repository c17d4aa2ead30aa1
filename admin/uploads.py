"""List uploads from the browser: the stored file, its preview, and the import job.

Each upload lives in ``<upload dir>/<tenant id>/<token>/``: ``source.csv``, ``job.json`` (state
and counts) and ``rejects.csv``. The import itself is the exchange package's
:class:`engine.exchange.importer.Importer`, the same code as ``dialer import``; it runs in a
background thread so the page can show progress.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import secrets
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.exchange.dialect import sniff_delimiter
from engine.exchange.encoding import EncodingError, detect_encoding
from engine.exchange.importer import SNIFF_CHARS, ImportFileError, Importer
from engine.exchange.mapping import SCALAR_FIELDS, Mapping, MappingError
from engine.exchange.rejects import RejectWriter

from .masking import scrub

log = logging.getLogger(__name__)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,40}$")
PREVIEW_ROWS = 5
MAX_PHONE_SLOTS = 5
IGNORE, FREE_FIELD = "", "field"
TARGETS = (*SCALAR_FIELDS, *(
    key for slot in range(1, MAX_PHONE_SLOTS + 1)
    for key in ((f"phone{slot}", f"phone{slot}_type") if slot > 1 else ("phone", "phone_type"))))


class UploadError(ValueError):
    """The upload cannot be read or mapped; the message names the problem."""


@dataclass
class Preview:
    encoding: str
    delimiter: str
    headers: list[str]
    rows: list[list[str]]
    guesses: list[str]  # a target per header


@dataclass
class Job:
    state: str = "uploaded"  # uploaded / running / done / failed
    filename: str = ""
    size: int = 0
    campaign_id: int | None = None
    list_name: str = ""
    list_id: int | None = None
    position: int = 0  # bytes read so far
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""

    @property
    def percent(self) -> int:
        return 100 if self.state == "done" else int(100 * self.position / self.size) if self.size else 0


class UploadStore:
    """Uploads of one tenant under the upload directory."""

    def __init__(self, root: Path, tenant_id: int) -> None:
        self.root = root / str(tenant_id)

    def folder(self, token: str) -> Path:
        """The upload's folder; UploadError for a malformed or unknown token."""
        if not _TOKEN.match(token) or not (self.root / token / "job.json").is_file():
            raise UploadError("no such upload")
        return self.root / token

    def create(self, filename: str, stream: io.BufferedIOBase) -> str:
        token = secrets.token_urlsafe(18)
        folder = self.root / token
        folder.mkdir(parents=True)
        size = 0
        with open(folder / "source.csv", "wb") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
                size += len(chunk)
        if not size:
            raise UploadError("the file is empty")
        self.save(token, Job(filename=Path(filename).name[:200], size=size))
        return token

    def job(self, token: str) -> Job:
        return Job(**json.loads((self.folder(token) / "job.json").read_text()))

    def save(self, token: str, job: Job) -> None:
        folder = self.root / token
        partial = folder / "job.json.part"
        partial.write_text(json.dumps(asdict(job)))
        partial.replace(folder / "job.json")

    def preview(self, token: str, masked: bool) -> Preview:
        path = self.folder(token) / "source.csv"
        try:
            encoding = detect_encoding(path)
        except EncodingError as exc:
            raise UploadError(str(exc).replace(str(path), self.job(token).filename)) from None
        with open(path, encoding=encoding.name, newline="") as handle:
            sample = handle.read(SNIFF_CHARS)
        delimiter = sniff_delimiter(sample)
        reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
        headers = [cell.strip() for cell in next(reader, [])]
        if not any(headers):
            raise UploadError("the file has no header line")
        rows = [row for _, row in zip(range(PREVIEW_ROWS), reader)]
        if masked:
            rows = [[scrub(cell) for cell in row] for row in rows]
        return Preview(encoding.name, delimiter, headers, rows, [guess_target(h) for h in headers])


def guess_target(header: str) -> str:
    """A header named like a contact field maps to it; anything else becomes a free field."""
    folded = header.strip().casefold()
    return folded if folded in TARGETS else FREE_FIELD if folded else IGNORE


def build_mapping(headers: list[str], targets: list[str], encoding: str,
                  delimiter: str) -> Mapping:
    """The exchange Mapping for the user's choice of a target per header."""
    if len(targets) != len(headers):
        raise UploadError("the mapping does not match the file's columns")
    columns: dict[str, str] = {}
    fields: dict[str, str] = {}
    for header, target in zip(headers, targets):
        if target == IGNORE or not header:
            continue
        if target == FREE_FIELD:
            fields[header] = header
        elif target in TARGETS:
            if target in columns:
                raise UploadError(f"{target} is chosen for both {columns[target]!r} and {header!r}")
            columns[target] = header
        else:
            raise UploadError(f"unknown target {target!r} for column {header!r}")
    if "external_id" not in columns:
        raise UploadError("choose the column holding external_id (the CRM's id of the lead)")
    if "phone" not in columns:
        raise UploadError("choose the column holding the first phone number (phone)")
    return Mapping(columns=columns, fields=fields, unmapped_to_fields=False, encoding=encoding,
                   delimiter=delimiter, source="the column mapping")


def run_import(store: UploadStore, token: str, factory: sessionmaker[Session], *,
               tenant_id: int, list_id: int, mapping: Mapping, region: str, clock: Clock,
               masked: bool) -> threading.Thread:
    """Start the import in a thread; its progress and result go to the job file."""
    folder = store.folder(token)
    job = store.job(token)
    job.state, job.list_id = "running", list_id
    store.save(token, job)

    def progress(position: int) -> None:
        job.position = position
        store.save(token, job)

    def work() -> None:
        rejects = RejectWriter(folder / "rejects.csv")
        sink = (lambda line, reason, cells: rejects(line, scrub(reason), [scrub(c) for c in cells])
                ) if masked else rejects
        # parallel=False: never fork a second process from the web server's threads.
        importer = Importer(factory, folder / "source.csv", tenant_id=tenant_id, list_id=list_id,
                            mapping=mapping, region=region, clock=clock, parallel=False)
        try:
            summary = importer.run(sink, on_header=rejects.start, on_progress=progress)
            job.state, job.counts = "done", asdict(summary)
        except (ImportFileError, MappingError, EncodingError) as exc:
            job.state, job.error = "failed", str(exc).replace(str(folder / "source.csv"),
                                                              job.filename)
            job.counts = asdict(importer.summary)
        except Exception:  # noqa: BLE001 - the job must end in a state the page can show
            log.exception("import %s failed", token)
            job.state, job.error = "failed", "internal error (see the server log)"
            job.counts = asdict(importer.summary)
        finally:
            rejects.close()
            store.save(token, job)

    thread = threading.Thread(target=work, name=f"import-{token[:8]}", daemon=True)
    thread.start()
    return thread


def job_json(job: Job) -> dict[str, Any]:
    return {"state": job.state, "percent": job.percent, "counts": job.counts, "error": job.error}
