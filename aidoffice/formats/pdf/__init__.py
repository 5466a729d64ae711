"""Arabic PDF documents over reportlab: fonts, shaping and bidi, page layout, tables, charts, the reports."""
