"""Unit tests of rnnbook.data: the shipped sunspots, windows, time splits, the scaler, the
signal."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook import data

# ---- load_sunspots ----------------------------------------------------------------------------

def test_the_shipped_sunspots_are_309_consecutive_years():
    years, values = data.load_sunspots()
    assert years.shape == values.shape == (309,)
    assert years[0] == 1700 and years[-1] == 2008
    assert np.array_equal(np.diff(years), np.ones(308))
    assert values.dtype == np.float32
    assert np.all(np.isfinite(values)) and values.min() >= 0
    # spot values of the published record (statsmodels' copy of the NGDC yearly means)
    assert values[0] == pytest.approx(5.0) and values[-1] == pytest.approx(2.9)
    assert values.max() == pytest.approx(190.2)


def test_the_shipped_csv_equals_the_copy_statsmodels_ships():
    sunspots = pytest.importorskip("statsmodels.datasets.sunspots")  # the source named below
    frame = sunspots.load_pandas().data
    years, values = data.load_sunspots()
    assert np.array_equal(frame["YEAR"].to_numpy().astype(int), years)
    assert np.allclose(frame["SUNACTIVITY"].to_numpy(), values, atol=1e-4)


def test_the_source_is_named():
    assert "1700-2008" in data.SUNSPOTS_SOURCE and "public domain" in data.SUNSPOTS_SOURCE


def test_a_csv_given_by_path_is_read(tmp_path):
    path = tmp_path / "spots.csv"
    path.write_text("year,sunspots\n2009,3.1\n2010,16.5\n")
    years, values = data.load_sunspots(path)
    assert years.tolist() == [2009, 2010]
    assert values.tolist() == pytest.approx([3.1, 16.5])


def test_a_missing_data_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no sunspot CSV at .*nothing.csv"):
        data.load_sunspots(tmp_path / "nothing.csv")


def test_a_missing_shipped_file_says_to_reinstall(monkeypatch, tmp_path):
    monkeypatch.setattr(data.resources, "files", lambda package: tmp_path)
    with pytest.raises(FileNotFoundError, match="reinstall rnnbook"):
        data.load_sunspots()


@pytest.mark.parametrize("text, message", [
    ("year,count\n1700,5\n", r"columns 'year' and 'sunspots'; missing \['sunspots'\]"),
    ("year,sunspots\n1700,5\n1701,lots\n", r"line 3: expected a year and a number"),
    ("year,sunspots\n", "no data rows"),
])
def test_a_malformed_csv_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        data.load_sunspots(path)


# ---- make_windows -----------------------------------------------------------------------------

def test_windows_and_targets_by_hand():
    X, y = data.make_windows(np.arange(10), window=3, horizon=2)
    assert X.shape == (6, 3) and y.shape == (6,)
    assert X[0].tolist() == [0, 1, 2] and y[0] == 4
    assert X[-1].tolist() == [5, 6, 7] and y[-1] == 9


@pytest.mark.parametrize("length, window, horizon",
                         [(5, 1, 1), (7, 4, 3), (50, 20, 1), (30, 5, 7)])
def test_every_target_is_window_plus_horizon_minus_one_after_the_start(length, window, horizon):
    series = np.random.default_rng(0).normal(size=length)
    X, y = data.make_windows(series, window, horizon)
    n = length - window - horizon + 1
    assert X.shape == (n, window) and y.shape == (n,)
    for i in range(n):
        assert np.array_equal(X[i], series[i : i + window])
        assert y[i] == series[i + window + horizon - 1]


def test_the_shortest_series_gives_exactly_one_window():
    X, y = data.make_windows(np.arange(5.0), window=3, horizon=2)
    assert X.tolist() == [[0.0, 1.0, 2.0]] and y.tolist() == [4.0]


@pytest.mark.parametrize("length, window, horizon", [(4, 4, 1), (5, 3, 3), (0, 1, 1)])
def test_a_series_too_short_for_the_window_is_a_clear_error(length, window, horizon):
    with pytest.raises(ValueError, match=f"length {length} is too short for window={window}"):
        data.make_windows(np.zeros(length), window, horizon)


def test_bad_window_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="1-D series"):
        data.make_windows(np.zeros((10, 2)), 3)
    with pytest.raises(ValueError, match="must be >= 1"):
        data.make_windows(np.zeros(10), 0)
    with pytest.raises(ValueError, match="must be >= 1"):
        data.make_windows(np.zeros(10), 3, horizon=0)
    with pytest.raises(TypeError, match="window must be an integer"):
        data.make_windows(np.zeros(10), 2.5)


# ---- split_by_time ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [3, 10, 289, 1000])
def test_the_split_is_in_time_order_and_covers_every_example_once(n):
    tr, va, te = data.split_by_time(n)
    indices = np.concatenate([np.arange(n)[tr], np.arange(n)[va], np.arange(n)[te]])
    assert np.array_equal(indices, np.arange(n))
    assert tr.start == 0 and tr.stop == va.start and va.stop == te.start and te.stop == n


def test_the_split_sizes_follow_the_fractions():
    tr, va, te = data.split_by_time(289)
    assert (tr.stop, va.stop - va.start, te.stop - te.start) == (202, 43, 44)
    tr, va, te = data.split_by_time(100, train=0.8, val=0.0)
    assert (tr.stop, va.stop - va.start, te.stop - te.start) == (80, 0, 20)


@pytest.mark.parametrize("train, val", [(0.0, 0.1), (1.0, 0.0), (0.7, 0.3), (0.5, -0.1)])
def test_impossible_fractions_are_clear_errors(train, val):
    with pytest.raises(ValueError, match="need 0 < train"):
        data.split_by_time(100, train, val)


@pytest.mark.parametrize("n", [0, 1])
def test_too_few_examples_to_split_is_a_clear_error(n):
    with pytest.raises(ValueError, match="too few to split"):
        data.split_by_time(n)


# ---- Scaler -----------------------------------------------------------------------------------

def test_the_scaler_uses_the_training_statistics_and_inverts():
    train = np.array([1.0, 2.0, 3.0, 4.0])
    scaler = data.Scaler.fit(train)
    assert scaler.mean == pytest.approx(2.5) and scaler.std == pytest.approx(np.std(train))
    z = scaler.transform(np.array([2.5, 10.0]))
    assert z.dtype == np.float32
    assert z.tolist() == pytest.approx([0.0, 7.5 / np.std(train)])
    assert scaler.inverse(z).tolist() == pytest.approx([2.5, 10.0], rel=1e-6)
    assert np.mean(scaler.transform(train)) == pytest.approx(0.0, abs=1e-6)
    assert np.std(scaler.transform(train)) == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("values, message", [
    ([], "at least one training value"),
    ([3.0, 3.0, 3.0], "constant"),
    ([1.0, np.nan], "NaN or infinity"),
])
def test_a_scaler_on_unusable_training_values_is_a_clear_error(values, message):
    with pytest.raises(ValueError, match=message):
        data.Scaler.fit(values)


# ---- sunspot_windows --------------------------------------------------------------------------

def test_sunspot_windows_are_batch_major_and_split_in_time_order():
    d = data.sunspot_windows(window=20)
    assert d["X_train"].shape == (202, 20, 1) and d["y_train"].shape == (202,)
    assert d["X_val"].shape == (43, 20, 1) and d["X_test"].shape == (44, 20, 1)
    years = np.concatenate([d["years_train"], d["years_val"], d["years_test"]])
    assert np.array_equal(years, np.arange(1720, 2009))


def test_sunspot_windows_scale_with_the_training_values_only():
    d = data.sunspot_windows(window=20, horizon=1)
    _, values = data.load_sunspots()
    seen_in_training = values[: 202 + 20]  # inputs and targets of the 202 training examples
    assert d["scaler"].mean == pytest.approx(float(np.mean(seen_in_training, dtype="float64")))
    assert d["scaler"].std == pytest.approx(float(np.std(seen_in_training, dtype="float64")))
    assert d["scaler"].mean != pytest.approx(float(np.mean(values, dtype="float64")))


def test_sunspot_windows_match_the_raw_series():
    d = data.sunspot_windows(window=5, horizon=3)
    years, values = data.load_sunspots()
    target = d["scaler"].inverse(d["y_val"][0])
    year = d["years_val"][0]
    assert target == pytest.approx(values[years == year][0], abs=1e-3)
    window = d["scaler"].inverse(d["X_val"][0, :, 0])
    start = np.flatnonzero(years == year)[0] - 3 - 5 + 1
    assert window == pytest.approx(values[start : start + 5], abs=1e-3)


def test_a_window_too_long_for_the_sunspots_is_a_clear_error():
    with pytest.raises(ValueError, match="too short"):
        data.sunspot_windows(window=400)


# ---- synthetic_signal -------------------------------------------------------------------------

def test_the_synthetic_signal_is_reproducible_and_follows_its_formula():
    a, b = data.synthetic_signal(n=100, seed=3), data.synthetic_signal(n=100, seed=3)
    assert a.shape == (100,) and a.dtype == np.float32 and np.array_equal(a, b)
    assert not np.array_equal(a, data.synthetic_signal(n=100, seed=4))
    clean = data.synthetic_signal(n=50, period=10.0, noise=0.0)
    t = np.arange(50)
    assert clean == pytest.approx(np.sin(2 * np.pi * t / 10) + 0.002 * t, abs=1e-6)


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"period": 0.0}, {"noise": -1.0}])
def test_bad_signal_arguments_are_clear_errors(kwargs):
    with pytest.raises(ValueError, match="need n >= 1"):
        data.synthetic_signal(**kwargs)
