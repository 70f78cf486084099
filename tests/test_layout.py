import numpy as np
import pytest

from theorysim.core.layout import Layout


def test_offsets_shapes_and_arrays():
    lay = Layout.of({"W": (3, 4), "b": 4, "s": ()})
    assert lay.size == 12 + 4 + 1
    assert [b.offset for b in lay.blocks] == [0, 12, 16]
    offsets, rows, cols = lay.arrays()
    assert offsets.tolist() == [0, 12, 16] and rows.tolist() == [3, 4, 1] and cols.tolist() == [4, 0, 0]
    assert offsets.dtype == np.int64


def test_pack_unpack_roundtrip_with_leading_axes():
    lay = Layout.of({"W": (2, 3), "b": 3})
    params = {"W": np.arange(30.0).reshape(5, 2, 3), "b": -np.arange(15.0).reshape(5, 3)}
    flat = lay.pack(params, lead=(5,))
    assert flat.shape == (5, 9)
    back = lay.unpack(flat)
    np.testing.assert_array_equal(back["W"], params["W"])
    np.testing.assert_array_equal(back["b"], params["b"])
    back["W"][0, 0, 0] = 99.0  # unpack returns views into the flat vector
    assert flat[0, 0] == 99.0


@pytest.mark.parametrize("spec,match", [({}, "non-empty"), ({"x": (0,)}, "shape"), ({"1x": 2}, "identifier"),
                                        ({"x": (2, 2, 2)}, "shape")])
def test_bad_layouts(spec, match):
    with pytest.raises(ValueError, match=match):
        Layout.of(spec)


def test_pack_errors_name_the_block():
    lay = Layout.of({"W": (2, 2)})
    with pytest.raises(ValueError, match="'W'"):
        lay.pack({"W": np.zeros(3)})
    with pytest.raises(ValueError, match="unknown"):
        lay.pack({"W": np.zeros((2, 2)), "v": np.zeros(1)})
