-- Account hierarchies: the parent of an account (CRM exports carry Parent Account / Parent
-- Company). NULL for a top-level account; not a foreign key, because a parent may arrive in a
-- later import than its children.

ALTER TABLE accounts ADD COLUMN parent_account_id VARCHAR;
