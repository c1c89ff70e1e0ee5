# pragma version 0.4.3
# pragma evm-version cancun
"""
@title BlackScholes
@notice European option pricer: prices, greeks and implied volatility of the Black-Scholes model,
        in fixed point, on-chain.  Stateless and permissionless.
@dev Units: spot, strike, price, vol and rate in WAD (1e18); tau in seconds; a year is 365 days.
     Domain: spot, strike in [1e-6, 1e12] (1e12 ... 1e30 as WAD integers); ln(strike/spot) within [-8, 8];
     vol in [0.0001, 20]; tau in [0, 10 years]; rate in [-0.5, 1].  Outside it every function reverts with
     "bs: <input> out of range".  tau == 0 prices intrinsic value.
     The modules beside this file carry the derivations and error budgets; this file only wires them.
"""

from .math import black_scholes
from .math import implied_vol as iv


@external
@pure
def call_price(spot: uint256, strike: uint256, vol: uint256, tau: uint256, rate: int256) -> uint256:
    """
    @notice Price of a European call.
    @param spot underlying price, WAD
    @param strike strike price, WAD
    @param vol annualised volatility, WAD (0.0001 ... 20)
    @param tau time to expiry, seconds (<= 10 years); 0 returns max(spot - strike, 0)
    @param rate continuously compounded annual risk-free rate, WAD (-0.5 ... 1)
    @return call price in WAD (the unit of spot), truncated; error <= 1e-14 * spot + 1 wei
    """
    return black_scholes.price(spot, strike, vol, tau, rate, True)


@external
@pure
def put_price(spot: uint256, strike: uint256, vol: uint256, tau: uint256, rate: int256) -> uint256:
    """
    @notice Price of a European put.
    @param spot underlying price, WAD
    @param strike strike price, WAD
    @param vol annualised volatility, WAD (0.0001 ... 20)
    @param tau time to expiry, seconds (<= 10 years); 0 returns max(strike - spot, 0)
    @param rate continuously compounded annual risk-free rate, WAD (-0.5 ... 1)
    @return put price in WAD, truncated; error <= 1e-14 * spot + 1 wei
    """
    return black_scholes.price(spot, strike, vol, tau, rate, False)


@external
@pure
def greeks(spot: uint256, strike: uint256, vol: uint256, tau: uint256, rate: int256, is_call: bool) -> (int256, uint256, uint256, int256, int256):
    """
    @notice The five first-order/second-order sensitivities as plain derivatives.
    @param spot underlying price, WAD
    @param strike strike price, WAD
    @param vol annualised volatility, WAD
    @param tau time to expiry, seconds
    @param rate annual rate, WAD
    @param is_call true for a call, false for a put
    @return delta dV/dS (WAD), gamma d2V/dS2 (WAD, unit 1/price), vega dV/dvol per 1.0 of vol (WAD),
            theta dV/dt per year of calendar time (WAD; negative for a long call), rho dV/dr per 1.0 of rate (WAD).
            Truncated to 1 wei.  At tau == 0 they are the limits tau -> 0+ (delta the step 1{S>K}; gamma, vega, rho 0;
            theta -rK for an in-the-money call, +rK for an in-the-money put) and S == K reverts
            "bs: greeks undefined at the money at expiry" (infinite limits).
    """
    return black_scholes.greeks(spot, strike, vol, tau, rate, is_call)


@external
@pure
def implied_vol(price: uint256, spot: uint256, strike: uint256, tau: uint256, rate: int256, is_call: bool) -> uint256:
    """
    @notice Volatility at which the model price equals `price`.
    @param price option price, WAD, strictly inside the no-arbitrage bounds
    @param spot underlying price, WAD
    @param strike strike price, WAD
    @param tau time to expiry, seconds (> 0)
    @param rate annual rate, WAD
    @param is_call true for a call, false for a put
    @return annualised volatility, WAD, in [0.0001, 20]; relative error <= 1e-8 where vega * vol >= 1e-5 * spot
    """
    return iv.implied_vol(price, spot, strike, tau, rate, is_call)
