"""A worker's scratch folders: what a dead worker left goes when the next one starts; what a
live one holds stays; a batch's files go when the batch ends, however it ended."""

from __future__ import annotations

import pytest

from bot.executors.scratch import Scratch


def test_a_starting_worker_removes_what_a_dead_one_left_and_nothing_of_a_live_one(tmp_path):
    root = tmp_path / "worker"
    live = Scratch(root)
    live.open()
    (live.folder / "photo.img").write_bytes(b"a person's photo")
    dead = root / "4242-deadbeef"  # a killed worker's: its lock went with its process
    (dead / "batch-x").mkdir(parents=True)
    (dead / "batch-x" / "j1.img").write_bytes(b"another person's photo")

    starting = Scratch(root)
    assert starting.open() == 1
    assert not dead.exists()
    assert (live.folder / "photo.img").exists()  # its worker still runs
    assert starting.folder != live.folder and starting.folder.is_dir()
    live.close()
    starting.close()
    assert sorted(p.name for p in root.iterdir()) == [".lock"]


def test_a_batchs_files_are_removed_however_the_batch_ended(tmp_path):
    scratch = Scratch(tmp_path / "worker")
    scratch.open()
    with pytest.raises(RuntimeError), scratch.batch() as folder:
        (folder / "j1.mp4").write_bytes(b"half a video")
        raise RuntimeError("the job was lost")
    assert not folder.exists() and list(scratch.folder.iterdir()) == [scratch.folder / ".lock"]
    scratch.close()
