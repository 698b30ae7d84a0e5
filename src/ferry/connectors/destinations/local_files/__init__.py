"""The built-in `local-files` destination: parquet, csv or jsonl files with Destinations V2 columns.

Layout: `<path>/<path_pattern>` for data (default `{namespace}/{stream}/{sync_id}-{part}.{ext}`),
`<path>/.ferry/streams/<key>/manifest.json` for the files Ferry wrote per stream and generation.
Every row starts with `_airbyte_raw_id`, `_airbyte_extracted_at`, `_airbyte_meta` and
`_airbyte_generation_id`. `_airbyte_meta` is a struct `{sync_id, changes}` in parquet, a nested
object in jsonl and JSON text in csv (see `encoders`). Files appear only at commit (see
`stream_files`); an overwrite removes the older generation when the stream completes (see `plan`).
"""

from ferry.connectors.destinations.local_files.destination import LocalFilesDestination

__all__ = ["LocalFilesDestination"]
