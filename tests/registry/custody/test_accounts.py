"""The node's account keystores: the directory that holds them is the node's alone (0700), each file 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.custody.accounts import AccountBook


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most machines run with (022), so that a directory made with default modes shows as 0755."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_keystore_directory_is_0700_and_each_keystore_0600(tmp_path: Path, usual_umask: None) -> None:
    directory = tmp_path / "data" / "accounts"
    (tmp_path / "data").mkdir(mode=0o700)
    account = AccountBook(directory, b"\x01" * 32).create()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / f"{account.address}.json").stat().st_mode) == 0o600
