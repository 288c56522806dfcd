"""Forecast accuracy on series kept out of the method's design: does bench/forecast_accuracy
generalise?

The series in forecast_accuracy were in view while the method was chosen (which models to
combine, how to weigh them). These were not: they were added afterwards and used only to turn
down candidate changes (picking one model per series, gentler or sharper weights, longer inner
backtests, equal weights on short histories: none beat the method here and there, so none
was kept). Same protocol, baselines and figures as forecast_accuracy. Series: public ones
shipped inside installed packages (statsmodels' European electrical equipment orders, El Nino
sea temperatures, Mauna Loa CO2, US real consumption / investment / government spending,
Danish money demand; pmdarima's sunspots) and another medium demo company (seed 11) by segment.
"""

from __future__ import annotations

import numpy as np

from bench.forecast_accuracy import METHOD, Series, demo_series, report
from bench.report import write_section


def _public() -> list[Series]:
    import pmdarima.datasets as pm
    import statsmodels.api as sm
    from statsmodels.datasets import elec_equip

    nino = sm.datasets.elnino.load_pandas().data.iloc[:, 1:].to_numpy(float).reshape(-1)
    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate().to_numpy()
    macro = sm.datasets.macrodata.load_pandas().data
    danish = sm.datasets.danish_data.load_pandas().data
    return [
        (
            "elec_equip: EU electrical equipment orders (monthly)",
            elec_equip.load().data.iloc[:, 0].to_numpy(float),
            12,
            6,
        ),
        ("elnino: sea surface temperature (monthly, last 20 years)", nino[-240:], 12, 6),
        ("co2: Mauna Loa CO2 (monthly means, last 20 years)", co2[-240:], 12, 6),
        ("macrodata realcons: US real consumption (quarterly)", macro["realcons"].to_numpy(float), 4, 4),
        ("macrodata realinv: US real investment (quarterly)", macro["realinv"].to_numpy(float), 4, 4),
        ("macrodata realgovt: US real government spending (quarterly)", macro["realgovt"].to_numpy(float), 4, 4),
        ("danish_data lrm: Danish money demand (quarterly)", danish["lrm"].to_numpy(float), 4, 4),
        ("sunspots (monthly, last 20 years)", np.asarray(pm.load_sunspots(), float)[-240:], 12, 6),
    ]


def run() -> None:
    md, summary = report([*([s] for s in _public()), *demo_series(seed=11, dim="segment", total=False)])
    title = "## Forecast accuracy on held-out series (not used to design the method)"
    write_section("forecast_validation", f"{title}\n\n{METHOD}\n\n{md}\n\n{summary}")


if __name__ == "__main__":
    run()
