/*
 * The XML that esxcli plugins print (vib/README.md, "What the agent prints"):
 * <output> holding a <structure> of <string> fields or a <list> of them. Used by
 * esxcli mode and by the Forklift compatibility answers, which share the format.
 * Text is escaped, and bytes XML 1.0 cannot hold (invalid UTF-8, C0 controls
 * other than tab/LF/CR) become U+FFFD, so hostile names cannot break the document.
 */
#ifndef XCLONE_AGENT_XML_OUT_H
#define XCLONE_AGENT_XML_OUT_H

#include <stdio.h>

void ag_xml_begin(FILE *out);
void ag_xml_end(FILE *out);
void ag_xml_list_begin(FILE *out);
void ag_xml_list_end(FILE *out);
void ag_xml_struct_begin(FILE *out, const char *type_name);
void ag_xml_struct_end(FILE *out);
/* One <field name="..."><string>value</string></field>; NULL value = empty. */
void ag_xml_field(FILE *out, const char *name, const char *value);
/* Escaped text, as described above. */
void ag_xml_text(FILE *out, const char *s);

#endif
