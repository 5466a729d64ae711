"""Files in and out: spreadsheets, PDF documents and sync packages (filled by the Excel, reports and sync work)."""
