"""Storage: the only package that imports SQLAlchemy — models, engine, migrations, repositories, unit of work."""
