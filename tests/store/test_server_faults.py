"""A PostgreSQL connection lost in the middle of an import: the list rolls back whole, the clerk reads Arabic, and the
next import on the same program goes in (issue 18, bad input)."""

from __future__ import annotations

import pytest

from aidoffice.errors import UserError
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.imports import import_beneficiaries
from aidoffice.services.overview import stats
from tests.helpers.databases import new_office
from tests.helpers.postgres import fresh_database, needs_server
from tests.helpers.postgres import sql as server_sql
from tests.services.test_imports_exports import messy_workbook


@needs_server
def test_a_connection_lost_mid_import_rolls_back_whole(tmp_path, monkeypatch):
    from aidoffice.store.uow import Repository

    with fresh_database() as url:
        ctx = new_office(url)
        try:
            register_association(ctx, AssociationInput(name="جمعية الخير الخيرية", registration_number="12/2010"))
            before = stats(ctx)
            real = Repository.bulk_insert
            calls = []

            def cut_after_persons(self, model, rows):
                calls.append(model)
                if len(calls) == 2:
                    # The persons are written; the server now drops this connection (a cable pulled, a restart).
                    pid = self.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
                    server_sql(url, "SELECT pg_terminate_backend(%s)", (pid,))
                return real(self, model, rows)

            monkeypatch.setattr(Repository, "bulk_insert", cut_after_persons)
            with pytest.raises(UserError) as refused:
                import_beneficiaries(ctx, messy_workbook(tmp_path / "list.xlsx"), "12/2010")
            monkeypatch.undo()
            assert len(calls) == 2, "the connection was cut in the middle of the list"
            message = str(refused.value)
            assert any("\u0600" <= ch <= "\u06ff" for ch in message), message
            assert "pg_terminate" not in message and "psycopg" not in message
            # Nothing of the list is on the server: no person, no household, no batch.
            assert stats(ctx) == before
            assert server_sql(url, "SELECT count(*) FROM import_batches")[0][0] == 0
            # The same program carries on with a new connection: the list goes in whole.
            report = import_beneficiaries(ctx, messy_workbook(tmp_path / "list2.xlsx"), "12/2010")
            assert report.committed and report.imported == 3
            assert stats(ctx)["persons"] == before["persons"] + 3
        finally:
            ctx.close()
