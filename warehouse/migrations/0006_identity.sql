-- Who acts: the OS login that is each user, the users each may act as, and who ran each import.
--
-- The CLI acts as the OS account running it (not an environment variable, which any process
-- can set). `os_user` maps that login to a warehouse user; `may_act_as` (comma-separated user
-- ids) lists the users someone may act as with `--user` / SPM_USER (admins may act as anyone).
-- `imports.imported_by` records the acting user of each import, next to its audit run.

ALTER TABLE users ADD COLUMN os_user VARCHAR;
ALTER TABLE users ADD COLUMN may_act_as VARCHAR;
ALTER TABLE imports ADD COLUMN imported_by VARCHAR;
