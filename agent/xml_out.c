/* esxcli plugin XML output (see xml_out.h). */
#include <stddef.h>
#include <string.h>

#include "xml_out.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (s[0] == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (s[0] == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

void ag_xml_text(FILE *out, const char *text)
{
	const unsigned char *s = (const unsigned char *)(text ? text : "");

	while (*s != '\0') {
		size_t n = utf8_seq(s);

		if (n == 0 || (*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r') || *s == 0x7f) {
			fputs(REPLACEMENT, out);
			s++;
			continue;
		}
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fwrite(s, 1, n, out);
		}
		s += n;
	}
}

void ag_xml_begin(FILE *out)
{
	fputs("<?xml version=\"1.0\"?>\n"
	      "<output xmlns=\"http://www.vmware.com/Products/ESX/5.0/esxcli/\">\n", out);
}

void ag_xml_end(FILE *out)
{
	fputs("</output>\n", out);
}

void ag_xml_list_begin(FILE *out)
{
	fputs("<list type=\"structure\">\n", out);
}

void ag_xml_list_end(FILE *out)
{
	fputs("</list>\n", out);
}

void ag_xml_struct_begin(FILE *out, const char *type_name)
{
	fputs("<structure typeName=\"", out);
	ag_xml_text(out, type_name);
	fputs("\">\n", out);
}

void ag_xml_struct_end(FILE *out)
{
	fputs("</structure>\n", out);
}

void ag_xml_field(FILE *out, const char *name, const char *value)
{
	fputs("  <field name=\"", out);
	ag_xml_text(out, name);
	fputs("\"><string>", out);
	ag_xml_text(out, value);
	fputs("</string></field>\n", out);
}
