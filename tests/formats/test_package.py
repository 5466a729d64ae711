"""The package format on its own: records sealed in several authenticated chunks, read back one by one, and a file
changed after its checks caught chunk by chunk."""

from __future__ import annotations

import os

import pytest

from aidoffice.formats import package as pkg
from aidoffice.formats.package import CHUNK, PackageError


def _records(n: int) -> list[dict]:
    # incompressible text: the sealed payload spans several 1 MiB chunks
    return [{"t": "persons", "id": str(i), "row": {"notes": os.urandom(700).hex()}, "s": [i, "o", 0]} for i in range(n)]


def test_many_chunks_round_trip_and_are_read_one_by_one(tmp_path):
    sender, receiver = pkg.KeyPair.generate(), pkg.KeyPair.generate()
    records = _records(3000)  # ≈ 4.3 MB of text, ≈ 2.2 MB compressed: three chunks
    written = pkg.write_package(
        tmp_path, "T.aidpkg", {"kind": "changes"}, iter(records), sender, {"recipient": receiver.kx_public}
    )
    assert written.records == 3000 and not list(tmp_path.glob("*.partial"))
    opened = pkg.open_package(written.path, [sender.sign_public], [receiver.kx_private])
    assert opened.manifest["ciphertext_length"] > 2 * CHUNK
    assert opened.digest == written.digest
    assert list(opened.iter_records()) == records
    with pytest.raises(PackageError, match="ليست موجّهة"):
        pkg.open_package(written.path, [sender.sign_public], [sender.kx_private])


def test_a_file_changed_after_its_checks_fails_while_it_is_read(tmp_path):
    sender, receiver = pkg.KeyPair.generate(), pkg.KeyPair.generate()
    written = pkg.write_package(
        tmp_path, "T.aidpkg", {"kind": "changes"}, _records(3000), sender, {"recipient": receiver.kx_public}
    )
    data = written.path.read_bytes()
    opened = pkg.open_package(data, [sender.sign_public], [receiver.kx_private])
    offset, size = opened._offset, CHUNK + 16
    first, second = data[offset : offset + size], data[offset + size : offset + 2 * size]
    swapped = data[:offset] + second + first + data[offset + 2 * size :]
    cut = data[: offset + 2 * size]  # ends on a chunk boundary: the last chunk present was not sealed as final
    for changed in (swapped, cut):
        opened._source = changed  # as if the stick's file were replaced between the checks and the reading
        opened._cached = None
        with pytest.raises(PackageError, match="تالفة"):
            list(opened.iter_records())


def test_an_empty_package_opens_to_no_records(tmp_path):
    sender, receiver = pkg.KeyPair.generate(), pkg.KeyPair.generate()
    written = pkg.write_package(
        tmp_path, "E.aidpkg", {"kind": "changes"}, [], sender, {"recipient": receiver.kx_public}
    )
    assert pkg.open_package(written.path, [sender.sign_public], [receiver.kx_private]).records == []
