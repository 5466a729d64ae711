"""Item models (QAbstractTableModel subclasses) fed by service queries."""
