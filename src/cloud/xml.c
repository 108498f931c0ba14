/* libxml2 helpers (xml.h). */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "cloud/xml.h"
#include "util/xmalloc.h"

xmlDocPtr
xml_parse(const char *buf, size_t len)
{
	if (len == 0 || len > (size_t)0x7fffffff)
		return NULL;
	return xmlReadMemory(buf, (int)len, "answer.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static int
xml_is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

xmlNodePtr
xml_child(xmlNodePtr node, const char *name)
{
	xmlNodePtr c;

	if (node == NULL)
		return NULL;
	for (c = node->children; c != NULL; c = c->next) {
		if (xml_is(c, name))
			return c;
	}
	return NULL;
}

xmlNodePtr
xml_find(xmlNodePtr node, const char *name)
{
	xmlNodePtr c, f;

	if (node == NULL)
		return NULL;
	for (c = node->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (xml_is(c, name))
			return c;
		if ((f = xml_find(c, name)) != NULL)
			return f;
	}
	return NULL;
}

xmlNodePtr
xml_path(xmlNodePtr node, const char *path)
{
	char *copy = xstrdup(path), *p, *save = NULL;

	for (p = strtok_r(copy, "/", &save); p != NULL && node != NULL;
	    p = strtok_r(NULL, "/", &save))
		node = xml_child(node, p);
	free(copy);
	return node;
}

/* A node's text content as a string of ours; NULL for no node. */
static char *
xml_content(xmlNodePtr n)
{
	xmlChar *t;
	char *s;

	if (n == NULL)
		return NULL;
	t = xmlNodeGetContent(n);
	s = xstrdup(t != NULL ? (const char *)t : "");
	xmlFree(t);
	return s;
}

char *
xml_text(xmlNodePtr node, const char *name)
{
	return xml_content(strchr(name, '/') != NULL ? xml_path(node, name) :
	    xml_find(node, name));
}

xmlNodePtr
xml_next(xmlNodePtr node, const char *name)
{
	for (node = node->next; node != NULL; node = node->next) {
		if (xml_is(node, name))
			return node;
	}
	return NULL;
}

char *
xml_child_text(xmlNodePtr node, const char *name)
{
	return xml_content(xml_child(node, name));
}
