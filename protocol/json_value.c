/* Small typed views of cJSON values shared by every decoder. */
#include "xp_json.h"
#include "xp_limits.h"

const char *xp_json_type_name(const cJSON *item)
{
	if (item == NULL)
		return "nothing";
	if (cJSON_IsString(item))
		return "a string";
	if (cJSON_IsNumber(item))
		return "a number";
	if (cJSON_IsObject(item))
		return "an object";
	if (cJSON_IsArray(item))
		return "an array";
	if (cJSON_IsBool(item))
		return "a boolean";
	if (cJSON_IsNull(item))
		return "null";
	return "an unknown value";
}

int xp_json_int(const cJSON *item, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(item))
		return -1;
	d = item->valuedouble;
	/* Written so that NaN fails the range test too. */
	if (!(d >= (double)-XP_INT_LIMIT && d <= (double)XP_INT_LIMIT))
		return -1;
	if ((double)(int64_t)d != d)
		return -1;
	*out = (int64_t)d;
	return 0;
}

cJSON *xp_json_new_int(int64_t v)
{
	return cJSON_CreateNumber((double)v);
}
