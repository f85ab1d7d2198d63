"""The sales funnel and forecast (DOMAIN.md section 6): period states, conversion, time in
stage, the funnel's shape, win probabilities learned from the closed periods, the weighted
forecast and its backtest. Computations are functions of (data, rules, as_of)."""
