"""The ``scout`` command: run the graph once, label a file, tune the local labeler, print backfill keys."""
