/* Small helpers over libxml2 for AWS Query-API answers. Element names are
 * matched by local name (AWS answers carry a default namespace). */
#ifndef FANOUT_CLOUD_XML_H
#define FANOUT_CLOUD_XML_H

#include <stddef.h>
#include <libxml/tree.h>

/* Parses an answer without network access or entity expansion. */
xmlDocPtr	 xml_parse(const char *, size_t);
/* First direct child element named name, or NULL. */
xmlNodePtr	 xml_child(xmlNodePtr, const char *name);
/* First element named name at any depth below node (node excluded). */
xmlNodePtr	 xml_find(xmlNodePtr, const char *name);
/* Follows direct children along "a/b/c". */
xmlNodePtr	 xml_path(xmlNodePtr, const char *path);
/* Text of xml_find(node, name) (or of xml_path when name holds a '/'),
 * newly allocated; NULL when absent. */
char		*xml_text(xmlNodePtr, const char *name);
/* Text of the direct child element name, newly allocated, or NULL. */
char		*xml_child_text(xmlNodePtr, const char *name);
/* Next sibling element named name after node (for "item" lists). */
xmlNodePtr	 xml_next(xmlNodePtr, const char *name);

#endif
