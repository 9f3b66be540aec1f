-- The seed document's booking, run by pgbench: the limit for these statements.
-- Variables: kmin, kmax (-D): which benchmark sessions (one hot session, or 200).
-- Session k's id is md5('bench-session-' || k)::uuid, as bench/throughput.py makes them.
\set k random(:kmin, :kmax)
\set r random(1, 9000000000000000000)
BEGIN;
SELECT max_capacity AS cap, current_bookings AS booked, (status = 'scheduled')::int AS open FROM course_sessions WHERE id = md5('bench-session-' || :k)::uuid FOR UPDATE \gset
\if :open = 1 AND :booked + 1 <= :cap
UPDATE course_sessions SET current_bookings = current_bookings + 1, updated_at = now() AT TIME ZONE 'UTC' WHERE id = md5('bench-session-' || :k)::uuid;
INSERT INTO bookings (id, session_id, reference, contact_name, contact_email, seats, status, created_at) VALUES (md5(:r::text)::uuid, md5('bench-session-' || :k)::uuid, 'BK-' || lpad(nextval('bench_ref')::text, 9, '0'), 'Bench Booker', 'b' || :r || '@example.com', 1, 'confirmed', now() AT TIME ZONE 'UTC');
\endif
END;
