/* The one table of array drivers, by MTV product name. */
#define _GNU_SOURCE /* strdup, strcasestr, getentropy, nanosleep under -std=c17 */
#include <string.h>

#include "vendors.h"

static const struct xc_array_driver *const drivers[] = {
	&xc_driver_pure,
	&xc_driver_ontap,
	&xc_driver_primera3par,
	&xc_driver_powerstore,
	&xc_driver_vantara,
	&xc_driver_infinibox,
	&xc_driver_flashsystem,
	&xc_driver_powermax,
	&xc_driver_powerflex,
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
