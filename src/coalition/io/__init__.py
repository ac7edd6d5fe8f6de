"""Import and export: files are read as rows, rows are validated into records for services."""
