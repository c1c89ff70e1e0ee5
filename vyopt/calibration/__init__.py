"""Calibrate the on-chain volatility surface (raw SVI per expiry) to market option quotes.

Pipeline (`calibrate`, the engine of `ape run calibrate`):

1. read the chain (vyopt.chains: Deribit export or the generic CSV);
2. filter bad quotes and invert bid, ask and mid prices to Black-76 vols (quotes.py; the inversion is
   accurate to 1e-12 in round trip, _black76.py);
3. fit raw SVI expiry by expiry, shortest first (fit.py): residual = (fitted vol - mid vol) / half
   bid-ask spread, i.e. weights = inverse squared spread, under a soft-L1 loss; multi-start TRF
   least squares in a box that encodes the registry bounds; then, only if needed, an SLSQP polish under
   the butterfly (g(k) >= 0) and calendar (w non-decreasing in T) conditions on a fine k grid;
4. check the surface (arbitrage.py) and write the report (run.py): RMSE per expiry in vol points, the
   share of fitted vols inside the bid-ask, smile and total-variance plots, parameters JSON + content hash.

API
    calibrate(chain_path, *, out_dir=None, fmt="auto", underlying=None, otm_only=True, min_days=1.0,
              plots=True, progress=...) -> dict          writes the report folder, returns the JSON summary
    fit_surface(quotes, progress=...) -> list[dict]      per-expiry SliceFit, shortest expiry first
    fit_slice(k, t_years, vol_mid, half_spread, prev=None) -> SliceFit
    prepare_quotes(chain, *, otm_only=True, min_days=1.0, min_quotes=5) -> (Quotes, FilterReport)
    REGISTRY_BOUNDS, registry_violations(svi)            the registry's hard bounds (bounds.py, one place)
    butterfly_report / calendar_report / surface_report  arbitrage checks (arbitrage.py)
    implied_vol / black_price / black_vega               the internal Black-76 (to be switched to
                                                         reference.black_scholes, see _black76.py)
"""
from vyopt.calibration._black76 import implied_vol
from vyopt.calibration._black76 import price as black_price
from vyopt.calibration._black76 import vega as black_vega
from vyopt.calibration.arbitrage import K_GRID, butterfly_report, calendar_report, surface_report
from vyopt.calibration.bounds import REGISTRY_BOUNDS, SviBounds, registry_violations
from vyopt.calibration.fit import SliceFit, fit_slice, fit_vols
from vyopt.calibration.quotes import FilterReport, Quotes, prepare_quotes, source_iv_agreement
from vyopt.calibration.run import INSIDE_BAR, calibrate, fit_surface

__all__ = [
    "INSIDE_BAR", "K_GRID", "REGISTRY_BOUNDS", "FilterReport", "Quotes", "SliceFit", "SviBounds",
    "black_price", "black_vega", "butterfly_report", "calendar_report", "calibrate", "fit_slice",
    "fit_surface", "fit_vols", "implied_vol", "prepare_quotes", "registry_violations", "source_iv_agreement",
    "surface_report",
]
