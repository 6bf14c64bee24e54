-- One org, 1,250 projects of 16 members, each member with one open chat: 20,000 sessions.
INSERT INTO organizations (id, slug, name, status)
VALUES ('00000000-0000-0000-0000-000000000001', 'acme', 'Acme', 'COMMITTED');
CREATE TABLE bench_projects AS SELECT g AS n, gen_random_uuid() AS id FROM generate_series(1, 1250) g;
INSERT INTO projects (id, org_id, name)
SELECT id, '00000000-0000-0000-0000-000000000001', 'p' || n FROM bench_projects;
INSERT INTO users (org_id, user_key)
SELECT '00000000-0000-0000-0000-000000000001', 'guest-' || lpad(g::text, 5, '0') FROM generate_series(1, 20000) g;
CREATE TABLE bench_users AS SELECT row_number() OVER () AS n, id FROM users;
INSERT INTO project_members (org_id, project_id, user_id, role)
SELECT '00000000-0000-0000-0000-000000000001', p.id, u.id, 'member'
FROM bench_projects p JOIN bench_users u ON (u.n - 1) / 16 + 1 = p.n;
INSERT INTO chat_sessions (org_id, project_id, user_id) SELECT org_id, project_id, user_id FROM project_members;
-- A replica's sockets' sessions, per project: what it binds as $1.
CREATE TABLE bench_sessions AS
SELECT p.n, array_agg(s.id) AS ids FROM chat_sessions s JOIN bench_projects p ON p.id = s.project_id GROUP BY p.n;
ANALYZE;
