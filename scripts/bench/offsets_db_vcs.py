"""Times offsets-db-data's Verra credits pipeline on one raw VCU transactions export.

Usage: python offsets_db_vcs.py TRANSACTIONS.csv [--parquet OUT.parquet]

Steps, each timed on its own (wall clock, after the imports):
  1. read:     pd.read_csv(path) with no options, as offsets-db-data reads the raw export;
  2. pipeline: df.process_vcs_credits(download_type='transactions', registry_name='verra',
               prefix='VCS', arb=None), which turns the raw rows into the credits table
               (issuances aggregated per project, date and vintage; retirements kept one
               per row) and validates it against the credits schema, all in memory;
  3. parquet:  only with --parquet, credits.to_parquet(OUT, compression='gzip',
               engine='pyarrow'), the write that offsets-db-data's own pipeline ends with.

Prints one line of key=value pairs for the calling script, e.g.
  rows_in=1000 rows_out=620 read_s=0.01 pipeline_s=0.20 parquet_s=0.02 total_s=0.23 ...
"""

import argparse
import resource
import sys
import time
import warnings
from importlib.metadata import version

# The pipeline and its dependencies warn about deprecations and mixed date formats, some of
# them at import time; the timings are what matter here.
warnings.simplefilter('ignore')

import pandas as pd  # noqa: E402

# Importing the module registers process_vcs_credits (and the steps it calls) as
# DataFrame methods through pandas-flavor.
import offsets_db_data.vcs  # noqa: E402, F401


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('csv', help='raw Verra VCU transactions export')
    parser.add_argument('--parquet', help='also write the credits table here, as their pipeline does')
    args = parser.parse_args()

    started = time.perf_counter()
    raw = pd.read_csv(args.csv)
    read_done = time.perf_counter()

    credits = raw.process_vcs_credits(
        download_type='transactions', registry_name='verra', prefix='VCS', arb=None
    )
    pipeline_done = time.perf_counter()

    parquet_s = 0.0
    if args.parquet:
        credits.to_parquet(args.parquet, index=False, compression='gzip', engine='pyarrow')
        parquet_s = time.perf_counter() - pipeline_done
    finished = time.perf_counter()

    # ru_maxrss is in KiB on Linux: the peak resident set of this process.
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    fields = {
        'offsets_db_data': version('offsets-db-data'),
        'pandas': pd.__version__,
        'rows_in': len(raw),
        'rows_out': len(credits),
        'issuances_out': int((credits['transaction_type'] == 'issuance').sum()),
        'retirements_out': int(credits['transaction_type'].str.contains('retirement').sum()),
        'read_s': f'{read_done - started:.3f}',
        'pipeline_s': f'{pipeline_done - read_done:.3f}',
        'parquet_s': f'{parquet_s:.3f}',
        'total_s': f'{finished - started:.3f}',
        'peak_rss_kib': peak_rss_kib,
    }
    print(' '.join(f'{key}={value}' for key, value in fields.items()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
