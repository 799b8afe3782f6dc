-- One row per department (catalog and observed), with its working window.

select * from {{ ref('int_departments') }}
