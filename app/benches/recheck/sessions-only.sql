\set p random(1, 1250)
SELECT id FROM chat_sessions WHERE id = ANY((SELECT ids FROM bench_sessions WHERE n = :p)::uuid[]) AND closed_at IS NULL;
