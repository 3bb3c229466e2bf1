import hashlib
import os

import pytest
from PIL import Image

from tiptriage.media.hashing import DIHEDRAL, hash_file, pdq_of_image
from tiptriage.media.index import distances, hex_to_rows

from . import images

THRESHOLD = 31


def nearest(query, original) -> int:
    """The smallest distance of any dihedral variant of `query` to the original's hash."""
    return int(distances(hex_to_rows(list(query.dihedral)), hex_to_rows([original.hash])).min())


@pytest.fixture(scope="module")
def originals():
    return {name: make() for name, make in images.BASES.items()}


@pytest.mark.parametrize("edit", sorted(images.EDITS))
@pytest.mark.parametrize("base", sorted(images.BASES))
def test_edited_copy_still_matches_its_original(originals, base, edit):
    original = pdq_of_image(originals[base])
    assert original.quality >= 50
    assert nearest(pdq_of_image(images.EDITS[edit](originals[base])), original) <= THRESHOLD


def test_different_images_do_not_match_each_other(originals):
    hashes = {name: pdq_of_image(im) for name, im in originals.items()}
    hashes["shapes_other_seed"] = pdq_of_image(images.shapes(seed=9))
    hashes["text_other_words"] = pdq_of_image(images.text("OTHER WORDS"))
    names = sorted(hashes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert nearest(hashes[a], hashes[b]) > THRESHOLD, (a, b)


def test_mirror_and_rotation_match_through_the_dihedral_set_only(originals):
    original = pdq_of_image(originals["text"])
    mirrored = pdq_of_image(originals["text"].transpose(Image.FLIP_LEFT_RIGHT))
    assert int(distances(hex_to_rows([mirrored.hash]), hex_to_rows([original.hash]))[0]) > THRESHOLD
    assert nearest(mirrored, original) <= THRESHOLD
    assert len(mirrored.dihedral) == len(DIHEDRAL) == 8


def test_hash_file_gives_the_exact_hashes_and_pdq_of_the_bytes(tmp_path, originals):
    path = tmp_path / "img.png"
    originals["shapes"].save(path)
    data = path.read_bytes()
    before = sorted(os.listdir(tmp_path))
    digest = hash_file(path)
    assert (digest.md5, digest.sha1, digest.sha256, digest.size) == (
        hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data))
    assert digest.kind == "image"
    assert digest.pdq.hash == pdq_of_image(Image.open(path)).hash
    assert sorted(os.listdir(tmp_path)) == before  # nothing written next to the file


def test_pdq_hex_agrees_with_threatexchange(tmp_path, originals):
    pdq_hasher = pytest.importorskip("threatexchange.signal_type.pdq.pdq_hasher")
    path = tmp_path / "img.jpg"
    originals["gradient"].save(path, quality=90)
    assert hash_file(path).pdq.hash == pdq_hasher.pdq_from_file(path)[0]


def test_a_flat_image_has_low_quality(tmp_path):
    path = tmp_path / "flat.png"
    Image.new("RGB", (300, 200), (120, 120, 120)).save(path)
    assert hash_file(path).pdq.quality < 50


def test_files_that_are_not_media_get_exact_hashes_only(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just text\n" * 100)
    digest = hash_file(path)
    assert digest.kind == "other" and digest.pdq is None and digest.frames is None
    assert digest.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_video_gets_vpdq_frames_or_a_clear_note(tmp_path, originals, monkeypatch):
    import numpy as np

    from tiptriage.media import hashing

    path = tmp_path / "clip.y4m"
    frames = [np.asarray(images.scale(originals["shapes"], 0.25))] * 4 + \
             [np.asarray(images.scale(originals["text"], 0.25).resize((240, 180)))] * 4
    images.y4m(path, frames)
    monkeypatch.setattr(hashing, "vpdq_available", lambda: False)
    digest = hash_file(path)
    assert digest.kind == "video" and digest.frames is None
    assert any("vPDQ is not installed" in n for n in digest.notes)
    monkeypatch.undo()
    if not hashing.vpdq_available():
        pytest.skip("vpdq is not installed here (pip install 'tiptriage[video]')")
    digest = hash_file(path)
    assert digest.kind == "video" and len(digest.frames) >= 2
    shapes_pdq = pdq_of_image(images.scale(originals["shapes"], 0.25))
    assert min(int(distances(hex_to_rows([f.pdq]), hex_to_rows([shapes_pdq.hash]))[0]) for f in digest.frames) <= 31
