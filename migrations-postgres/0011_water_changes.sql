-- PostgreSQL form of migrations/0011_water_changes.sql.
-- The water a water body loses or gains between two of its versions, for the monitoring
-- figures' "area lost per ward and month" (GET /stats/water-loss). A water body's water
-- is its area, or none once its status is `filled`; delisting alone is not a loss (a
-- record withdrawn as a duplicate took no water away). Written by a trigger on
-- `asset_versions`, in the transaction of the change, so no write path forgets one;
-- small (one row per change of a water body's water), so a figure over it is quick.
CREATE TABLE water_changes (
    asset_id BIGINT  NOT NULL,
    version  BIGINT  NOT NULL,
    at       TEXT    NOT NULL,
    ward     BIGINT,
    borough  TEXT,
    -- Square metres lost since the version before (negative: gained).
    lost_m2  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (asset_id, version)
);
CREATE INDEX water_changes_at ON water_changes (at);

CREATE FUNCTION water_changes_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO water_changes (asset_id, version, at, ward, borough, lost_m2)
    SELECT NEW.asset_id, NEW.version, NEW.at, NEW.ward, NEW.borough, d.lost
    FROM (
        SELECT (CASE WHEN p.status = 'filled' THEN 0 ELSE coalesce(p.area_m2, 0) END)
             - (CASE WHEN NEW.status = 'filled' THEN 0 ELSE coalesce(NEW.area_m2, 0) END) AS lost
        FROM asset_versions p
        WHERE p.asset_id = NEW.asset_id
          AND p.version = (SELECT max(version) FROM asset_versions
                            WHERE asset_id = NEW.asset_id AND version < NEW.version)
    ) d
    WHERE abs(d.lost) >= 0.01;
    RETURN NULL;
END;
$$;

CREATE TRIGGER water_changes_record AFTER INSERT ON asset_versions
FOR EACH ROW WHEN (NEW.layer = 'water_bodies') EXECUTE FUNCTION water_changes_record();

-- The changes already in the register's versions.
INSERT INTO water_changes (asset_id, version, at, ward, borough, lost_m2)
SELECT asset_id, version, at, ward, borough, lost FROM (
    SELECT asset_id, version, at, ward, borough,
           lag(CASE WHEN status = 'filled' THEN 0 ELSE coalesce(area_m2, 0) END)
               OVER (PARTITION BY asset_id ORDER BY version)
         - (CASE WHEN status = 'filled' THEN 0 ELSE coalesce(area_m2, 0) END) AS lost
    FROM asset_versions WHERE layer = 'water_bodies'
) v
WHERE lost IS NOT NULL AND abs(lost) >= 0.01;

-- PostgreSQL only: the map's layers as views, for planners' desktop GIS (QGIS, GDAL's
-- `ogrinfo PG:…`). One view per layer, the listed assets only, with the fields the server
-- serves for that layer (src/schema.rs: the common ones, then the layer's own) and the
-- geometry typed so PostGIS's `geometry_columns` lists each view as a layer in EPSG:4326.
-- They are here, in the last migration, rather than in a migration of their own, so
-- both directories keep the same file names; a later migration that changes a column
-- they show must drop and create them again (PostgreSQL refuses to drop or retype a
-- column a view reads).
CREATE VIEW heritage AS
SELECT a.id, a.code, a.layer, a.kind, a.name, a.name_bn, a.ward, a.borough, a.address,
       a.condition, a.condition_assessed_at, a.last_maintained_at, a.updated_at, a.version,
       a.source, a.grade,
       -- Every graded building is locked until a decision says otherwise (schema.rs).
       CASE WHEN a.grade IS NULL THEN NULL ELSE coalesce(l.state, 'locked') END AS heritage_lock,
       CASE WHEN a.grade IS NULL THEN NULL ELSE l.application END AS heritage_lock_application,
       a.year_built, a.owner,
       a.geom::geometry(Geometry, 4326) AS geom
FROM assets a LEFT JOIN heritage_locks l ON l.asset_id = a.id
WHERE a.layer = 'heritage' AND a.delisted_at IS NULL;

CREATE VIEW water_bodies AS
SELECT a.id, a.code, a.layer, a.kind, a.name, a.name_bn, a.ward, a.borough, a.address,
       a.condition, a.condition_assessed_at, a.last_maintained_at, a.updated_at, a.version,
       a.source, a.area_m2, coalesce(a.status, 'active') AS status,
       coalesce(a.protected, 0) <> 0 AS protected,
       a.geom::geometry(Geometry, 4326) AS geom
FROM assets a
WHERE a.layer = 'water_bodies' AND a.delisted_at IS NULL;

CREATE VIEW parks AS
SELECT a.id, a.code, a.layer, a.kind, a.name, a.name_bn, a.ward, a.borough, a.address,
       a.condition, a.condition_assessed_at, a.last_maintained_at, a.updated_at, a.version,
       a.source, a.area_m2,
       a.geom::geometry(Geometry, 4326) AS geom
FROM assets a
WHERE a.layer = 'parks' AND a.delisted_at IS NULL;

CREATE VIEW wards AS
SELECT a.id, a.code, a.layer, a.kind, a.name, a.name_bn, a.ward, a.borough, a.address,
       a.condition, a.condition_assessed_at, a.last_maintained_at, a.updated_at, a.version,
       a.source,
       a.geom::geometry(Geometry, 4326) AS geom
FROM assets a
WHERE a.layer = 'wards' AND a.delisted_at IS NULL;

-- The complaints' public face (the `complaints` collection's fields): the table itself
-- holds the reporters' names and contacts, which a planner's view of the map has no need
-- of. Grant a GIS role the views, not the tables.
CREATE VIEW complaint_pins AS
SELECT c.id, c.ticket, c.category, c.status, c.created_at, c.updated_at, c.geom
FROM complaints c;
