-- Uses of rate holds are pruned by age (PruneRateUses), whatever their key:
-- the daily per-number limit names its day, so its key is never taken
-- again to slide the window past them. Mirrors sqlite 0007.
CREATE INDEX rate_uses_at ON rate_uses (at);
