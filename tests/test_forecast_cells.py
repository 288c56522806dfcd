"""The forecast's cells and atoms: shares, the unassigned run-rate, request members, stream keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tools.forecast.cells import UNASSIGNED, Atoms, atom_dims, request, series_key, shares


def _atoms() -> Atoms:
    frame = pd.DataFrame(
        {
            "region": ["EMEA", "EMEA", "EMEA", "NA"],
            "segment": ["SMB", "SMB", "SMB", "SMB"],
            "rep": ["R1", "R2", "R3", "R9"],
        }
    )
    return Atoms.of(("region", "segment", "rep"), [frame])


def test_atoms_add_an_unassigned_atom_per_cell() -> None:
    atoms = _atoms()
    assert atoms.cells == [("EMEA", "SMB"), ("NA", "SMB")]
    assert ("EMEA", "SMB", UNASSIGNED) in atoms.keys and ("NA", "SMB", UNASSIGNED) in atoms.keys
    assert atoms.cell_matrix().sum(axis=0).tolist() == [1.0] * atoms.n  # every atom in exactly one cell


def test_shares_of_a_cell_add_up_and_departed_reps_go_unassigned() -> None:
    atoms = _atoms()
    history = np.zeros((atoms.n, 8))
    index = {k: i for i, k in enumerate(atoms.keys)}
    history[index[("EMEA", "SMB", "R1")]] = 30.0
    history[index[("EMEA", "SMB", "R2")]] = 10.0
    history[index[("EMEA", "SMB", "R3")], :4] = 50.0  # booked early, nothing in the last four periods
    history[index[("NA", "SMB", "R9")]] = 5.0
    eligible = np.array([k[-1] not in ("R2", UNASSIGNED) for k in atoms.keys])  # R2 has left
    s = shares(history, atoms, window=4, eligible=eligible)
    per_cell = atoms.cell_matrix() @ s
    assert np.allclose(per_cell, 1.0)  # at every origin, each cell is split exactly
    last = dict(zip(atoms.keys, s[:, -1], strict=True))
    assert last[("EMEA", "SMB", "R1")] == pytest.approx(0.75)  # 30 of the last year's 40
    assert last[("EMEA", "SMB", "R2")] == 0.0 and last[("EMEA", "SMB", UNASSIGNED)] == pytest.approx(0.25)
    assert last[("EMEA", "SMB", "R3")] == 0.0
    early = dict(zip(atoms.keys, s[:, 4], strict=True))  # as known after period 4: R3 had its share
    assert early[("EMEA", "SMB", "R3")] == pytest.approx(200 / 360)


def test_a_cell_without_bookings_is_split_evenly() -> None:
    atoms = _atoms()
    s = shares(np.zeros((atoms.n, 4)), atoms, window=4)
    emea = [i for i, k in enumerate(atoms.keys) if k[0] == "EMEA"]
    assert np.allclose(s[emea, -1], 1 / len(emea))


def test_request_nodes_are_sums_of_atoms() -> None:
    frame = pd.DataFrame(
        {
            "region": ["EMEA", "EMEA", "NA", "NA"],
            "segment": ["SMB", "Ent", "SMB", "Ent"],
            "product": ["A", "B", "A", "A"],
        }
    )
    dims = atom_dims(["region"], {"product": ["A"]})
    assert dims == ("region", "segment", "product")
    atoms = Atoms.of(dims, [frame])
    req = request(atoms, ["region"], ["A"])
    ids = req.hierarchy.ids
    assert ids == ["total", "region=EMEA", "region=NA"]
    total = req.members[0]
    assert total.sum() == 3 and total @ np.array([k[2] == "B" for k in atoms.keys]) == 0  # product B is sliced off
    assert np.array_equal(req.members[1] + req.members[2], req.members[0])  # children add up to the parent


def test_series_keys_depend_on_the_data_only() -> None:
    a = np.array([1.0, 2.0, 3.004])
    assert series_key(a) == series_key(a.copy()) == series_key(np.array([1.0, 2.0, 3.0]))  # to the cent
    assert series_key(a) != series_key(a * 2)
    assert 0 <= series_key(a) < 2**63
