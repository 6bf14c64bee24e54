\set p random(1, 1250)
SELECT s.id, s.closed_at IS NULL,
       EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = s.project_id AND m.user_id = s.user_id)
FROM chat_sessions s WHERE s.id = ANY((SELECT ids FROM bench_sessions WHERE n = :p)::uuid[]);
