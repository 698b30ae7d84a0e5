"""The sync engine: runs one sync from a source to a destination. Knows nothing of the control plane."""

from ferry.engine.catalog import StreamSelection, configure_catalog
from ferry.engine.ledger import StreamCounts
from ferry.engine.runners import DestinationRunner, InProcessDestination, InProcessSource, SourceRunner
from ferry.engine.state_store import ConnectionState, FileStateStore, MemoryStateStore, StateStore
from ferry.engine.sync import NullObserver, Sync, SyncCancelled, SyncObserver, SyncResult

__all__ = [
    "ConnectionState",
    "DestinationRunner",
    "FileStateStore",
    "InProcessDestination",
    "InProcessSource",
    "MemoryStateStore",
    "NullObserver",
    "SourceRunner",
    "StateStore",
    "StreamCounts",
    "StreamSelection",
    "Sync",
    "SyncCancelled",
    "SyncObserver",
    "SyncResult",
    "configure_catalog",
]
