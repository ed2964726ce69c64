/* The one table of array drivers, by MTV product name. */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <string.h>

#include "vendors.h"

static const struct xc_array_driver *const drivers[] = {
	&xc_driver_pure,
	&xc_driver_ontap,
};

const struct xc_array_driver *xc_array_driver_at(size_t i)
{
	return i < sizeof(drivers) / sizeof(drivers[0]) ? drivers[i] : NULL;
}

const struct xc_array_driver *xc_array_driver_find(const char *product)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (product != NULL && strcmp(drivers[i]->product, product) == 0)
			return drivers[i];
	return NULL;
}
