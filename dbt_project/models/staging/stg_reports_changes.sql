-- What changed under the warehouse, per run: dbt files (rules), raw files restated (D46).
select
    run_id,
    cast(recorded_at as {{ type_instant() }}) as recorded_at,
    kind,
    item
from {{ source('reports', 'changes') }}
