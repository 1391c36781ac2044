-- Who reviewed, as the API key that acted (its id beside its name), through which channel
-- (api, cli, system), and for a decision awaiting a second reviewer, what was decided.
ALTER TABLE alert_events ADD COLUMN actor_key TEXT;
ALTER TABLE alert_events ADD COLUMN channel TEXT;
ALTER TABLE alert_events ADD COLUMN decision TEXT;
