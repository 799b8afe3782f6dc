"""The warehouse contract: raw tables the pipeline writes and dbt reads as sources."""
