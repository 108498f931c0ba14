/* A provider's dated price table in the data folder (data/aws-prices.json,
 * data/gcp-prices.json): {"date": "YYYY-MM-DD", "source", "region",
 * "on_demand": {TYPE: USD per hour}, "menu": [TYPE...] (the types the form
 * offers; optional), other sections of prices (GCP: "spot")}. Read and
 * checked once, on first use, and kept for the process. */
#ifndef FANOUT_CLOUD_PRICES_H
#define FANOUT_CLOUD_PRICES_H

#include <jansson.h>
#include <pthread.h>

struct price_table {
	const char	*file;		/* under the data folder */
	const char	*pattern;	/* ERE a type's name matches */
	const char	*what;		/* "instance type", for messages */
	pthread_mutex_t	 lock;		/* guards t and why */
	json_t		*t;		/* the checked table, once loaded */
	char		*why;		/* else why it could not be */
};
#define PRICE_TABLE_INIT(file, pattern, what) \
	{ file, pattern, what, PTHREAD_MUTEX_INITIALIZER, NULL, NULL }

/* The checked table (borrowed), or NULL with a cause naming the file and
 * the field ("...; reinstall fanout or set FANOUT_DATA_DIR"). */
json_t	*price_table_get(struct price_table *, char **cause);
/* table[section][type] (a price per hour), or -1 when unknown or the
 * table is unreadable. */
double	 price_table_price(struct price_table *, const char *section,
	    const char *type);

#endif
