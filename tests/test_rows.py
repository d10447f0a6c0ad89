"""kb.rows: versions of a shared matrix append without disturbing each other, in memory
and on disk."""

from __future__ import annotations

import numpy as np

from kb.rows import Rows


def block(n: int, start: int = 0) -> np.ndarray:
    return np.arange(start * 4, (start + n) * 4, dtype=np.float32).reshape(n, 4)


def test_the_newest_version_appends_in_place_and_older_ones_are_undisturbed():
    v1 = Rows.of(block(3))
    v2 = v1.append(block(2, 3))  # in place: the first version has room to grow
    v3 = v2.append(block(1, 5))  # in place
    assert np.shares_memory(v2.array, v3.array)
    assert np.array_equal(v3.array, block(6))
    assert np.array_equal(v2.array, block(5)) and np.array_equal(v1.array, block(3))
    other = v2.append(-block(1))  # v2 is not the newest any more: a copy
    assert not np.shares_memory(other.array, v3.array)
    assert np.array_equal(v3.array, block(6)) and np.array_equal(other.array[-1], -block(1)[0])


def test_saves_share_the_file_and_write_only_new_rows(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    v1 = Rows.of(block(3))
    v1.save(tmp_path / "a" / "m.f32")
    loaded = Rows.load(tmp_path / "a" / "m.f32", 3, 4)
    v2 = loaded.append(block(2, 3))
    v2.save(tmp_path / "b" / "m.f32")
    a, b = (tmp_path / "a" / "m.f32").stat(), (tmp_path / "b" / "m.f32").stat()
    assert a.st_ino == b.st_ino  # one file, extended
    assert np.array_equal(Rows.load(tmp_path / "a" / "m.f32", 3, 4).array, block(3))
    assert np.array_equal(Rows.load(tmp_path / "b" / "m.f32", 5, 4).array, block(5))
    # Another lineage from "a" must not overwrite b's rows: the file no longer ends at
    # a's rows, so it gets a file of its own.
    diverged = Rows.load(tmp_path / "a" / "m.f32", 3, 4).append(-block(1))
    diverged.save(tmp_path / "c" / "m.f32")
    assert (tmp_path / "c" / "m.f32").stat().st_ino != a.st_ino
    assert np.array_equal(Rows.load(tmp_path / "b" / "m.f32", 5, 4).array, block(5))
    assert np.array_equal(Rows.load(tmp_path / "c" / "m.f32", 4, 4).array[-1], -block(1)[0])


def test_saved_and_loaded_versions_read_the_file_instead_of_holding_the_rows(tmp_path):
    path = tmp_path / "m.f32"
    v1 = Rows.of(block(3))
    v1.save(path)
    assert v1.mapped  # the in-memory copy is let go once saved
    loaded = Rows.load(path, 3, 4)
    assert loaded.mapped and not loaded.array.flags.writeable
    assert np.array_equal(loaded.array, block(3))
    # Appending to a mapped version extends its file at once; older versions still see
    # only their own rows, and appending to them again makes a copy in memory.
    v2 = loaded.append(block(2, 3))
    assert path.stat().st_size == 5 * 4 * 4
    assert v2.mapped and np.array_equal(v2.array, block(5))
    assert np.array_equal(loaded.array, block(3)) and np.array_equal(v1.array, block(3))
    fork = loaded.append(-block(1))
    assert not fork.mapped and path.stat().st_size == 5 * 4 * 4
    # Saving the extended version elsewhere links the file and writes nothing more.
    (tmp_path / "next").mkdir()
    v2.save(tmp_path / "next" / "m.f32")
    assert (tmp_path / "next" / "m.f32").stat().st_ino == path.stat().st_ino
    assert np.array_equal(Rows.load(tmp_path / "next" / "m.f32", 5, 4).array, block(5))
    # The older name goes when its index version is removed; appends follow the file.
    path.unlink()
    v3 = v2.append(block(1, 5))
    assert v3.mapped and (tmp_path / "next" / "m.f32").stat().st_size == 6 * 4 * 4
    assert np.array_equal(v3.array, block(6))


def test_a_file_left_longer_by_an_unfinished_write_is_not_appended_to(tmp_path):
    path = tmp_path / "m.f32"
    Rows.of(block(3)).save(path)
    loaded = Rows.load(path, 3, 4)
    with open(path, "ab") as f:  # rows a crashed writer added, never published
        f.write(block(1, 9).tobytes())
    v2 = loaded.append(block(2, 3))
    assert not v2.mapped  # a copy: the file is left as it was
    assert path.stat().st_size == 4 * 4 * 4
    (tmp_path / "next").mkdir()
    v2.save(tmp_path / "next" / "m.f32")
    assert (tmp_path / "next" / "m.f32").stat().st_ino != path.stat().st_ino
    assert np.array_equal(Rows.load(tmp_path / "next" / "m.f32", 5, 4).array, block(5))
    assert np.array_equal(Rows.load(path, 3, 4).array, block(3))


def test_an_adopted_array_is_shared_and_never_written():
    array = block(3)
    v1 = Rows.adopt(array)
    assert np.shares_memory(v1.array, array)
    v2 = v1.append(block(2, 3))  # no spare room: a copy
    assert not np.shares_memory(v2.array, array)
    assert np.array_equal(array, block(3)) and np.array_equal(v2.array, block(5))
