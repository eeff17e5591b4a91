"""The Parquet data lake: layout (a contract), row conversion, PII hashing, writer, reader."""
