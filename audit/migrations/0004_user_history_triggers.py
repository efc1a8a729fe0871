"""Triggers that keep users' rights history (audit.UserEvent) on Django's own auth_user table.

pgtrigger writes triggers into the migrations of the tracked model's app; auth is Django's, so
the SQL pgtrigger compiles for them (`Trigger.compile(User)`) is kept here instead. Regenerate
it the same way if UserEvent's fields change. PostgreSQL only, like every pgtrigger trigger:
on the embedded SQLite default the history table exists and stays empty.
"""

from django.db import migrations

INSTALL = [
    """
CREATE OR REPLACE FUNCTION "public"._pgtrigger_should_ignore(
    trigger_name NAME
)
RETURNS BOOLEAN AS $$
    DECLARE
        _pgtrigger_ignore TEXT[];
        _result BOOLEAN;
    BEGIN
        BEGIN
            SELECT INTO _pgtrigger_ignore
                CURRENT_SETTING('pgtrigger.ignore');
            EXCEPTION WHEN OTHERS THEN
        END;
        IF _pgtrigger_ignore IS NOT NULL THEN
            SELECT trigger_name = ANY(_pgtrigger_ignore)
            INTO _result;
            RETURN _result;
        ELSE
            RETURN FALSE;
        END IF;
    END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION pgtrigger_insert_insert_b56f4()
RETURNS TRIGGER AS $$

    BEGIN
        IF ("public"._pgtrigger_should_ignore(TG_NAME) IS TRUE) THEN
            IF (TG_OP = 'DELETE') THEN
                RETURN OLD;
            ELSE
                RETURN NEW;
            END IF;
        END IF;
        INSERT INTO "audit_userevent" ("is_active", "is_staff", "is_superuser", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "username") VALUES (NEW."is_active", NEW."is_staff", NEW."is_superuser", _pgh_attach_context(), NOW(), 'insert', NEW."id", NEW."username"); RETURN NULL;
    END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS pgtrigger_insert_insert_b56f4 ON "auth_user";
CREATE  TRIGGER pgtrigger_insert_insert_b56f4
    AFTER INSERT ON "auth_user"


    FOR EACH ROW
    EXECUTE PROCEDURE pgtrigger_insert_insert_b56f4();

COMMENT ON TRIGGER pgtrigger_insert_insert_b56f4 ON "auth_user" IS 'c0fc76d1b9132732c47e1bc4779529f649f8a7e3';
""",
    """
CREATE OR REPLACE FUNCTION "public"._pgtrigger_should_ignore(
    trigger_name NAME
)
RETURNS BOOLEAN AS $$
    DECLARE
        _pgtrigger_ignore TEXT[];
        _result BOOLEAN;
    BEGIN
        BEGIN
            SELECT INTO _pgtrigger_ignore
                CURRENT_SETTING('pgtrigger.ignore');
            EXCEPTION WHEN OTHERS THEN
        END;
        IF _pgtrigger_ignore IS NOT NULL THEN
            SELECT trigger_name = ANY(_pgtrigger_ignore)
            INTO _result;
            RETURN _result;
        ELSE
            RETURN FALSE;
        END IF;
    END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION pgtrigger_update_update_2f4b7()
RETURNS TRIGGER AS $$

    BEGIN
        IF ("public"._pgtrigger_should_ignore(TG_NAME) IS TRUE) THEN
            IF (TG_OP = 'DELETE') THEN
                RETURN OLD;
            ELSE
                RETURN NEW;
            END IF;
        END IF;
        INSERT INTO "audit_userevent" ("is_active", "is_staff", "is_superuser", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "username") VALUES (NEW."is_active", NEW."is_staff", NEW."is_superuser", _pgh_attach_context(), NOW(), 'update', NEW."id", NEW."username"); RETURN NULL;
    END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS pgtrigger_update_update_2f4b7 ON "auth_user";
CREATE  TRIGGER pgtrigger_update_update_2f4b7
    AFTER UPDATE ON "auth_user"


    FOR EACH ROW WHEN (OLD."is_active" IS DISTINCT FROM (NEW."is_active") OR OLD."is_staff" IS DISTINCT FROM (NEW."is_staff") OR OLD."is_superuser" IS DISTINCT FROM (NEW."is_superuser") OR OLD."username" IS DISTINCT FROM (NEW."username"))
    EXECUTE PROCEDURE pgtrigger_update_update_2f4b7();

COMMENT ON TRIGGER pgtrigger_update_update_2f4b7 ON "auth_user" IS 'e0e9463eb8f944111572fd336332f7b6fd0832e6';
"""
]
UNINSTALL = [
    'DROP TRIGGER IF EXISTS pgtrigger_insert_insert_b56f4 ON "auth_user";',
    'DROP TRIGGER IF EXISTS pgtrigger_update_update_2f4b7 ON "auth_user";'
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in INSTALL:
            schema_editor.execute(sql, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in UNINSTALL:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_access_refusal_userevent"), ("pghistory", "0007_auto_20250421_0444")]

    operations = [migrations.RunPython(forward, reverse)]
